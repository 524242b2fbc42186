from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from kyra.actions.base import ActionRegistry
from kyra.errors import WorkflowDefinitionError
from kyra.workflows.loader import format_problems, load_workflow_file, load_workflow_text
from kyra.workflows.model import TriggerKind, Workflow


def problems(
    text: str, registry: ActionRegistry | None = None, source: str = "flow.yaml"
) -> list[str]:
    with pytest.raises(WorkflowDefinitionError) as info:
        load_workflow_text(textwrap.dedent(text), source, registry)
    assert info.value.source == source
    return info.value.problems


def test_yaml_syntax_error_has_line_and_column() -> None:
    found = problems(
        """\
        name: demo
        steps:
          - name: a
            action: log
            with: x: y
        """
    )
    assert found == ["flow.yaml:5:12: YAML syntax error: mapping values are not allowed here"]


def test_empty_document_and_non_mapping_top_level() -> None:
    assert problems("") == [
        "flow.yaml: the document is empty; a workflow needs at least a name and steps"
    ]
    assert problems("# only a comment\n") == problems("")
    assert problems("- a\n- b\n") == [
        "flow.yaml:1: a workflow must be a mapping of fields (name, trigger, steps, ...), "
        "not a list"
    ]


def test_missing_steps_points_at_the_top_mapping() -> None:
    assert problems("name: demo\n") == ["flow.yaml:1: steps: field required"]


def test_wrong_types_say_what_was_expected() -> None:
    found = problems(
        """\
        name: demo
        steps:
          - name: a
            action: log
            on_error: maybe
            with: [1, 2]
        config:
          retry: {max_retries: lots}
        """
    )
    assert found == [
        "flow.yaml:5: steps[0].on_error: must be 'fail' or 'continue' (got 'maybe')",
        "flow.yaml:6: steps[0].with: expected a mapping, got a list",
        "flow.yaml:8: config.retry.max_retries: expected a whole number, got text",
    ]


def test_bad_step_name_and_duplicate_step_names() -> None:
    found = problems(
        """\
        name: demo
        steps:
          - name: fetch
            action: log
          - name: 2nd
            action: log
          - name: fetch
            action: log
        """
    )
    assert found[0].startswith("flow.yaml:5: steps[1].name: a step name starts with a letter")
    assert found[1] == "flow.yaml:7: steps[2].name: step name 'fetch' is already used by steps[0]"
    assert len(found) == 2


def test_duplicate_keys_are_rejected_not_overwritten() -> None:
    found = problems(
        """\
        name: demo
        steps:
          - name: a
            action: log
            with:
              message: one
              message: two
        name: other
        """
    )
    assert found == [
        "flow.yaml:7: steps[0].with.message: duplicate key 'message' (first set on line 6)",
        "flow.yaml:8: name: duplicate key 'name' (first set on line 1)",
    ]


def test_unknown_field_suggests_the_right_one() -> None:
    found = problems("name: demo\nsteps:\n  - name: a\n    acton: log\n")
    assert found == [
        "flow.yaml:3: steps[0].action: field required",
        "flow.yaml:4: steps[0].acton: unknown field (did you mean 'action'?)",
    ]


def test_unknown_action_with_suggestion(registry: ActionRegistry) -> None:
    found = problems(
        """\
        name: demo
        steps:
          - name: a
            action: htp_request
          - name: b
            action: zzz
        """,
        registry,
    )
    assert found == [
        "flow.yaml:4: steps[0].action: unknown action 'htp_request' (did you mean 'http_request'?)",
        "flow.yaml:6: steps[1].action: unknown action 'zzz' (available: http_request, log)",
    ]


def test_missing_and_unknown_parameters(registry: ActionRegistry) -> None:
    found = problems(
        """\
        name: demo
        steps:
          - name: a
            action: http_request
            with:
              methd: POST
              json: {a: 1}
          - name: b
            action: log
            with:
              message: hi
              anything: goes
        """,
        registry,
    )
    assert found == [
        "flow.yaml:5: steps[0].with.url: field required",
        "flow.yaml:6: steps[0].with.methd: unknown parameter for action 'http_request' "
        "(did you mean 'method'?)",
    ]


def test_a_default_in_config_satisfies_a_required_parameter(registry: ActionRegistry) -> None:
    workflow = load_workflow_text(
        textwrap.dedent(
            """\
            name: demo
            config:
              defaults: {url: "https://example.test"}
            steps:
              - name: a
                action: http_request
            """
        ),
        "flow.yaml",
        registry,
    )
    assert workflow.steps[0].with_ == {}


def test_template_syntax_error_points_at_the_template_line() -> None:
    found = problems(
        """\
        name: demo
        steps:
          - name: a
            action: log
            with:
              message: "{{ inputs.x }"
          - name: b
            action: log
            with:
              message: |
                first line
                {% if x %}never closed
        """
    )
    assert found[0].startswith("flow.yaml:6: steps[0].with.message: template error: ")
    assert found[1].startswith("flow.yaml:12: steps[1].with.message: template error: ")
    assert "endif" in found[1]


def test_unsafe_template_is_reported_at_load_time() -> None:
    found = problems(
        """\
        name: demo
        steps:
          - name: a
            action: log
            with: {message: "{{ ''.__class__.__mro__ }}"}
        """
    )
    assert found == [
        "flow.yaml:5: steps[0].with.message: template error: template tried to access an "
        "unsafe attribute '__mro__'; templates may only read inputs, steps, secrets, env "
        "and now"
    ]


def test_invalid_cron_points_at_the_cron_field() -> None:
    found = problems(
        """\
        name: demo
        trigger:
          cron: "* *"
        steps:
          - {name: a, action: log}
        """
    )
    assert found == ["flow.yaml:3: trigger.cron: invalid cron expression '* *'"]


def test_invalid_interval() -> None:
    found = problems("name: demo\ntrigger: {interval: 30x}\nsteps: [{name: a, action: log}]\n")
    assert found == [
        "flow.yaml:2: trigger.interval: invalid duration '30x': use seconds or units like "
        "'30s', '5m', '1h30m'"
    ]


def test_bad_paths_and_formats_in_config() -> None:
    found = problems(
        """\
        name: demo
        steps: [{name: a, action: log}]
        config:
          defaults: {"json.a b": 1}
          date_normalisers:
            - {field: query.date, format: "%Y-%m-%d; rm -rf"}
        """
    )
    assert len(found) == 2
    assert found[0].startswith("flow.yaml:4: config.defaults.json.a b: parameter path")
    assert found[1].startswith("flow.yaml:6: config.date_normalisers[0].format: date format")


def test_many_problems_at_once_sorted_by_line(registry: ActionRegistry) -> None:
    found = problems(
        """\
        name: "bad name!"
        trigger: {cron: "nope"}
        config:
          timeout: -3
        steps:
          - name: fetch
            action: htp_request
          - name: post
            action: http_request
            with:
              body: "{{ steps.fetch.output.id "
        """,
        registry,
    )
    lines = [int(problem.split(":")[1]) for problem in found]
    assert lines == sorted(lines)
    assert [line for line in lines] == [1, 2, 4, 7, 10, 11]
    assert all(problem.startswith("flow.yaml:") for problem in found)


def test_yaml_dates_stay_text() -> None:
    workflow = load_workflow_text(
        "name: d\ninputs: {day: 2026-11-26}\nsteps: [{name: a, action: log}]\n", "d.yaml"
    )
    assert workflow.inputs == {"day": "2026-11-26"}


def test_non_text_keys_and_python_tags_are_refused() -> None:
    found = problems("name: d\nsteps: [{name: a, action: log, with: {yes: 1}}]\n")
    assert found == [
        "flow.yaml:2: steps[0].with.yes: key 'yes' is read as true/false; "
        "quote it to use it as text"
    ]
    found = problems("name: !!python/object:os.system x\nsteps: [{name: a, action: log}]\n")
    assert found == [
        "flow.yaml:1: name: unsupported YAML tag 'tag:yaml.org,2002:python/object:os.system'"
    ]


def test_alias_bombs_are_bounded() -> None:
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 8):
        previous = chr(ord("a") + level - 1)
        name = chr(ord("a") + level)
        bomb.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    found = problems("\n".join(bomb) + "\n")
    assert found == [
        "flow.yaml: the document expands to more than 100000 values (too many aliases?)"
    ]


def test_json_workflow_with_lines() -> None:
    text = json.dumps(
        {"name": "j", "trigger": "manual", "steps": [{"name": "a", "action": "log", "x": 1}]},
        indent=2,
    )
    found = problems(text, source="flow.json")
    assert found == ["flow.json:8: steps[0].x: unknown field"]
    assert problems('{"name": "j",\n "steps": [}', source="flow.json") == [
        "flow.json:2:12: JSON syntax error: Expecting value"
    ]
    assert problems('{"name": "j", "name": "k", "steps": []}', source="f.json")[0] == (
        "f.json:1: name: duplicate key 'name' (first set on line 1)"
    )


BIG_WORKFLOW = """\
name: nightly-sync
description: Copy new orders to the CRM and tell Slack.
trigger:
  cron: "0 3 * * *"
  timezone: Europe/Madrid
inputs:
  since: "2026-11-26"
config:
  request_delay: 250ms
  timeout: 10s
  retry: {max_retries: 3, backoff: exponential, initial_delay: 1s, max_delay: 1m}
  date_format: "%Y-%m-%d"
  date_normalisers:
    - {field: json.since, format: "%Y-%m-%d"}
  defaults: {json.currency: EUR}
  headers: {X-Api-Version: "2"}
steps:
  - name: fetch
    action: http_request
    with:
      url: "https://shop.example/orders?since={{ inputs.since }}"
  - name: push
    action: http_request
    on_error: continue
    provider: crm
    config: {timeout: 30s, defaults: {json.source: shop}}
    with:
      url: https://crm.example/import
      method: POST
      json:
        orders: "{{ steps.fetch.output.json | jmespath('orders[].id') }}"
        since: "{{ inputs.since }}"
  - name: tell
    action: log
    with:
      message: |
        Imported {{ steps.push.output.json.count }} orders
        at {{ now | strftime('%H:%M') }}
"""


def test_big_valid_workflow_round_trips(registry: ActionRegistry, tmp_path: Path) -> None:
    workflow = load_workflow_text(BIG_WORKFLOW, "big.yaml", registry)
    assert workflow.trigger.kind is TriggerKind.CRON
    assert workflow.config.request_delay == 0.25
    assert workflow.steps[1].with_["json"]["since"] == "{{ inputs.since }}"
    assert workflow.steps[2].with_["message"].endswith("%H:%M') }}\n")

    dumped = workflow.model_dump(mode="json", by_alias=True)
    path = tmp_path / "again.json"
    path.write_text(json.dumps(dumped))
    assert load_workflow_file(path, registry) == workflow
    assert Workflow.model_validate(dumped) == workflow


def test_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        load_workflow_file(tmp_path / "missing.yaml")
    assert info.value.problems == [
        f"{tmp_path / 'missing.yaml'}: cannot read the file: No such file or directory"
    ]
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(WorkflowDefinitionError, match="cannot read the file"):
        load_workflow_file(binary)


def test_an_endless_file_is_read_only_up_to_the_limit() -> None:
    # /dev/zero never ends: reading it whole would hang and fill memory.
    with pytest.raises(WorkflowDefinitionError) as info:
        load_workflow_file("/dev/zero")
    assert info.value.problems == ["/dev/zero: the file is larger than 1000000 bytes"]


def test_format_problems_lists_every_line() -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        load_workflow_text("name: x\nstps: []\n", "f.yaml")
    assert format_problems(info.value) == (
        "f.yaml: the workflow definition has 2 problems:\n"
        "  f.yaml:1: steps: field required\n"
        "  f.yaml:2: stps: unknown field (did you mean 'steps'?)"
    )
