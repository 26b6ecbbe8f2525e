"""The shared runtime every service and projector is built on; never deployed alone."""
