"""Codes from envelopes beyond JSON `code` keys, and SQLSTATE read as a protocol."""

from __future__ import annotations

from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis import Diagnoser
from kyra.healing.diagnosis.codes import CodeTables
from kyra.healing.diagnosis.observe import observe
from kyra.healing.diagnosis.sqlstate import standard_class
from kyra.healing.taxonomy import ErrorClass, Safety


def assert_green(diagnoser: Diagnoser, error_type: str, message: str, cls: ErrorClass) -> None:
    result = diagnoser.diagnose(ErrorContext(error_type=error_type, error_message=message))
    assert result.error_class is cls and result.safety is Safety.GREEN, result.evidence


def test_codes_are_read_from_tags_soap_nvp_triples_and_error_headers() -> None:
    dropbox = observe(
        ErrorContext(
            status_code=409,
            body='{"error_summary": "path/not_found/..", "error": {".tag": "path", '
            '"path": {".tag": "not_found"}}}',
        )
    )
    assert {"path", "not_found"} <= dropbox.codes
    assert dropbox.code_ranks["not_found"] < dropbox.code_ranks["path"]  # inner is specific
    soap = observe(
        ErrorContext(
            status_code=500,
            body="<soapenv:Fault><faultcode>sf:INVALID_FIELD</faultcode><detail>"
            "<sf:InvalidFieldFault><sf:exceptionCode>INVALID_FIELD_FOR_INSERT_UPDATE"
            "</sf:exceptionCode></sf:InvalidFieldFault></detail></soapenv:Fault>",
        )
    )
    assert "invalid_field_for_insert_update" in soap.codes
    nvp = observe(ErrorContext(status_code=200, body="ACK=Failure&L_ERRORCODE0=10002&VERSION=204"))
    assert "10002" in nvp.codes
    triple = observe(
        ErrorContext(status_code=200, body='{"json": {"errors": [["RATELIMIT", "wait", "x"]]}}')
    )
    assert "ratelimit" in triple.codes
    header = observe(
        ErrorContext(status_code=503, headers={"x-vercel-error": "DEPLOYMENT_PAUSED"}, body="x")
    )
    assert "deployment_paused" in header.codes
    # an ordinary header is not a code
    assert (
        observe(ErrorContext(status_code=503, headers={"x-request-id": "ABC_DEF"})).codes == set()
    )


def test_google_client_messages_carry_their_status() -> None:
    core = observe(
        ErrorContext(
            error_type="google.api_core.exceptions.Forbidden",
            error_message="403 POST https://bigquery.googleapis.com/bigquery/v2/projects/x/jobs: "
            "Access Denied",
        )
    )
    assert core.status == 403 and core.status_from_text
    sheets = observe(
        ErrorContext(error_type="gspread.exceptions.APIError", error_message="APIError: [429]: x")
    )
    assert sheets.status == 429


def test_sqlstate_from_a_sql_driver_is_read_by_its_standard_class() -> None:
    diagnoser = Diagnoser(codes=CodeTables())
    odbc = "('HYT00', '[HYT00] [Microsoft][ODBC Driver 18]Query timeout expired (SQLExecDirectW)')"
    assert_green(diagnoser, "pyodbc.OperationalError", odbc, ErrorClass.TIMEOUT_ERROR)
    date = ErrorContext(
        error_type="psycopg.errors.InvalidDatetimeFormat",
        body='{"code": "22007"}',
        error_message='invalid input syntax for type date: "31/02/2026"',
    )
    assert "sqlstate:22007" in observe(date).codes
    assert diagnoser.diagnose(date).error_class is ErrorClass.INVALID_DATE_FORMAT
    # a whole class is never GREEN: 08004 is a rejected login, not an outage
    assert standard_class("sqlstate:08004") is None
    assert standard_class("sqlstate:28000") is ErrorClass.INVALID_CREDENTIALS
    # a provider's five-digit number is not a SQLSTATE (Discord's 40001 is Unauthorized)
    discord = ErrorContext(provider="discord", status_code=401, body='{"code": 40001}')
    assert not any(c.startswith("sqlstate:") for c in observe(discord).codes)


def test_qualified_code_names_also_give_their_bare_name() -> None:
    aws = observe(
        ErrorContext(
            status_code=400,
            body='{"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", '
            '"message": "Rate of requests exceeds the allowed throughput."}',
        )
    )
    assert "throttlingexception" in aws.codes
    sharepoint = observe(
        ErrorContext(
            status_code=500,
            body='{"odata.error": {"code": "-2147024860, '
            'Microsoft.SharePoint.SPQueryThrottledException"}}',
        )
    )
    assert "spquerythrottledexception" in sharepoint.codes


def test_a_retry_flag_in_the_body_is_structure_for_a_transient_answer() -> None:
    diagnoser = Diagnoser()
    body = (
        '{"error": {"message": "(#4) Application request limit reached", '
        '"type": "OAuthException", "code": 4, "is_transient": %s}}'
    )
    flagged = diagnoser.diagnose(ErrorContext(provider="acme", status_code=400, body=body % "true"))
    assert flagged.error_class is ErrorClass.RATE_LIMIT_EXCEEDED
    assert flagged.safety is Safety.GREEN
    # the same words without the flag (or with it false) are words alone: not GREEN
    for value in ("false", '"true"'):
        plain = diagnoser.diagnose(
            ErrorContext(provider="acme", status_code=400, body=body % value)
        )
        assert plain.safety is not Safety.GREEN


def test_a_network_errno_the_client_reported_is_structure() -> None:
    diagnoser = Diagnoser()
    mysql = "(2003, \"Can't connect to MySQL server on 'db' ([Errno 111] Connection refused)\")"
    assert_green(diagnoser, "pymysql.err.OperationalError", mysql, ErrorClass.CONNECTION_TIMEOUT)
    npm = ErrorContext(
        error_type="subprocess.CalledProcessError",
        error_message="npm ERR! code ECONNRESET npm ERR! network aborted",
    )
    assert diagnoser.diagnose(npm).safety is Safety.GREEN
    # the same words in a body a remote wrote are not the client's errno
    remote = ErrorContext(status_code=400, body='{"message": "[Errno 111] Connection refused"}')
    assert diagnoser.diagnose(remote).safety is not Safety.GREEN


def test_a_status_line_quoted_by_a_tool_gives_the_status() -> None:
    npm = observe(
        ErrorContext(
            error_type="subprocess.CalledProcessError",
            error_message="npm ERR! code E503 npm ERR! 503 Service Unavailable - GET https://x",
        )
    )
    assert npm.status == 503 and npm.status_from_text


def test_a_500_naming_only_a_server_failure_is_an_outage() -> None:
    diagnoser = Diagnoser()
    outage = ErrorContext(
        status_code=500,
        body='{"statusCode": 500, "name": "application_error", "message": "Unexpected."}',
    )
    assert diagnoser.diagnose(outage).safety is Safety.GREEN
    # a specific error under a 500 (Mandrill answers every error with 500) is not
    specific = ErrorContext(
        status_code=500,
        body='{"status": "error", "code": 5, "name": "Unknown_Template", "message": "No such '
        'template"}',
    )
    assert diagnoser.diagnose(specific).safety is not Safety.GREEN


def test_a_header_naming_the_day_as_the_spent_window_is_a_quota_not_a_pause() -> None:
    diagnoser = Diagnoser()
    body = '{"Title": "Too Many Requests"}'

    def said(window: str) -> Safety:
        headers = {"Retry-After": "60", "X-Rate-Limit-Problem": window}
        return diagnoser.diagnose(ErrorContext(status_code=429, headers=headers, body=body)).safety

    assert said("day") is Safety.RED
    assert said("minute") is Safety.GREEN
