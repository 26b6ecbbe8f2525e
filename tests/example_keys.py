"""The key the committed examples of sealed event versions are sealed with
(``contracts/examples/*.v2.json``): a published test value, never a real subject's key."""

import hashlib

EXAMPLE_DATA_KEY = hashlib.sha256(b"opencrm example data key").digest()
