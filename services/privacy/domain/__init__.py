"""The privacy rules, pure: when an erasure is refused, what it keeps, when it is done."""
