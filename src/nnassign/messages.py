"""Test messages as students may read them: the assertion's message, once, and no test source.

    clean_message(raw) -> str      Otter's failure text reduced to the message
    clean_message("❌ Test case failed\\nError at line 9 in test q3:\\n  assert ok, 'm'\\nAssertionError: m") == "m"

Why: Otter's exception-based tests report a failure as a header, the failing line of the test file
(the source of a hidden test, with its message literal: the message twice) and the exception.
Feedback shows hidden tests by name and message only.
"""

import re

OTTER_FAILED = "❌ Test case failed"
NO_MESSAGE = "the check failed (it gives no message)"

# Otter's ExceptionTestFile._generate_error_message: "Error at line N in test NAME:", then the source
# lines of the test (indented by two spaces), then "ExceptionType: message".
_HEADER = re.compile(r"^Error at line \d+ in test [^\n]*:$")
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)|AssertionError): ?(.*)$",
                        flags=re.S)


def clean_message(raw) -> str:
    """The message of a failed (or passed) test case, without the test's source.

    An AssertionError gives its message alone; another exception keeps its type ("TypeError: ...")
    because the type names the mistake. Text not in Otter's failure format is returned stripped.
    """
    text = "" if raw is None else str(raw).strip()
    lines = text.split("\n")
    if lines and lines[0].strip() == OTTER_FAILED:
        lines = lines[1:]
    if lines and _HEADER.match(lines[0].strip()):
        lines = lines[1:]
        while lines and (lines[0].startswith("  ") or not lines[0].strip()):  # the test's source
            lines = lines[1:]
        rest = "\n".join(lines).strip()
        m = _EXCEPTION.match(rest)
        if not m:
            return rest or NO_MESSAGE
        kind, message = m.group(1), m.group(2).strip()
        if kind == "AssertionError":
            return message or NO_MESSAGE
        return f"{kind}: {message}" if message else kind
    return "\n".join(lines).strip()
