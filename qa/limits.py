"""The limits of one question, for every caller (CLI, HTTP, Python); kept apart so that
`qa --help` does not pay for importing the answer models."""

DEFAULT_TOP_K = 5
MAX_TOP_K = 50
MAX_QUESTION_CHARS = 2000
