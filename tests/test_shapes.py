"""System shapes the bundled examples never draw: a service that runs submitted code, an admin
interface on any kind, open sign-up, an outside relay, a steered tool, a third-party MCP server,
and a person whose class one flow decides. Each rule has a model that must raise and a near miss
that must not, differing in the one fact the rule reads."""

from __future__ import annotations

import pytest

from threatmodel.pipeline import assess


def _run(write, text: str):
    return assess(write(text), use_default_status=False)


def _findings(write, text: str) -> dict:
    return {f.id: f for f in _run(write, text).analysis.findings}


RAY = """system: {name: training cluster}
boundaries: [{id: cloud, trust: internal}]
components:
  - {id: scanner, kind: person, name: Someone on the internet}
  - {id: ray-head, kind: code-execution-service, boundary: cloud, exposure: public, authenticated: AUTH}
  - {id: cloud-keys, kind: secret, boundary: cloud}
  - {id: checkpoints, kind: model-artifact, boundary: cloud, format: safetensors}
flows:
  - {from: scanner, to: ray-head, protocol: HTTP, name: jobs API}
  - {from: cloud-keys, to: ray-head, name: mounted}
  - {from: ray-head, to: checkpoints, name: saves}
"""


def test_an_open_job_api_runs_the_callers_code_with_the_clusters_rights(write):
    found = _findings(write, RAY.replace("AUTH", "false"))
    assert {"EXPOSED-CONTROL-INTERFACE@ray-head", "CREDENTIAL-THEFT@cloud-keys", "ML10@checkpoints"} <= set(found)
    assert found["CREDENTIAL-THEFT@cloud-keys"].attack_path[0] == "scanner"
    assert found["EXPOSED-CONTROL-INTERFACE@ray-head"].score.severity in ("high", "critical")


def test_a_job_api_that_asks_for_a_login_keeps_the_anonymous_caller_out(write):
    found = _findings(write, RAY.replace("AUTH", "true"))
    assert "EXPOSED-CONTROL-INTERFACE@ray-head" not in found
    assert "CREDENTIAL-THEFT@cloud-keys" not in found
    assert "ADMIN-ENDPOINT-EXPOSURE@ray-head" in found  # its login is still on the internet


TRACKING = """system: {name: experiment tracking}
boundaries: [{id: ml, trust: internal}]
components:
  - {id: visitor, kind: person}
  - {id: tracking-server, kind: process, boundary: ml, name: Experiment tracking server, admin_interface: ADMIN}
  - {id: registry, kind: model-registry, boundary: ml}
  - {id: s3-key, kind: secret, boundary: ml}
flows:
  - {from: visitor, to: tracking-server, protocol: HTTP}
  - {from: tracking-server, to: registry, name: registers models}
  - {from: s3-key, to: tracking-server, name: artifact store credentials}
"""


def test_an_admin_interface_on_any_kind_that_asks_no_login_is_control(write):
    found = _findings(write, TRACKING.replace("ADMIN", "true"))
    assert {"EXPOSED-CONTROL-INTERFACE@tracking-server", "CREDENTIAL-THEFT@s3-key", "ML10@registry"} <= set(found)


def test_a_plain_service_is_not_an_admin_interface(write):
    found = _findings(write, TRACKING.replace("ADMIN", "false"))
    assert not {"EXPOSED-CONTROL-INTERFACE@tracking-server", "CREDENTIAL-THEFT@s3-key"} & set(found)


SIGNUP = """system: {name: chat product}
boundaries: [{id: app, trust: internal}]
components:
  - {id: chat, kind: llm, boundary: app, exposure: public, authenticated: true, self_registration: OPEN}
flows: []
"""


@pytest.mark.parametrize("open_signup, anonymous", [("true", True), ("false", False)])
def test_open_sign_up_lets_anyone_through_an_authenticated_door(write, open_signup, anonymous):
    found = _findings(write, SIGNUP.replace("OPEN", open_signup))
    injection = found.get("PROMPT-INJECTION@chat")
    assert (injection is not None and injection.attack_path[0] == "anyone-on-the-internet") is anonymous


RELAY = """system: {name: support desk}
boundaries: [{id: support, trust: internal}]
components:
  - {id: customer, kind: person}
  - {id: ticketing, kind: external-service, name: Hosted ticketing service}
  - {id: agent, kind: agent, boundary: support, autonomy: act}
  - {id: refunds, kind: tool, boundary: support, capabilities: [spend]}
flows:
  - {from: customer, to: ticketing, protocol: HTTPS, name: web form}
  - {from: ticketing, to: agent, protocol: PROTOCOL, name: new tickets}
  - {from: agent, to: refunds}
"""


def test_input_sent_through_an_outside_relay_is_still_the_senders(write):
    found = _findings(write, RELAY.replace("PROTOCOL", "HTTPS"))
    assert found["PROMPT-INJECTION@agent"].attack_path[:2] == ("customer", "ticketing")
    assert found["EXCESSIVE-AGENCY@refunds"].attack_path[0] == "customer"


def test_an_identity_provider_relays_no_content(write):
    found = _findings(write, RELAY.replace("PROTOCOL", "OIDC"))
    assert all(f.attack_path[:1] != ("customer",) for f in found.values())


COMPUTER_USE = """system: {name: computer-use agent}
boundaries: [{id: laptop, trust: internal}]
components:
  - {id: user, kind: person}
  - {id: web, kind: external-service, name: Web pages}
  - {id: agent, kind: agent, boundary: laptop, autonomy: act}
  - {id: files, kind: tool, boundary: laptop, capabilities: [CAPS], sandboxed: true}
  - {id: documents, kind: user-files, boundary: laptop, name: The user's documents}
flows:
  - {from: user, to: agent, protocol: HTTPS, authenticated: true}
  - {from: web, to: agent, protocol: HTTPS, name: page text}
  - {from: agent, to: files}
  - {from: files, to: documents, name: writes and deletes}
"""


def test_what_a_steered_tool_can_write_the_attacker_can_delete_sandbox_or_not(write):
    found = _findings(write, COMPUTER_USE.replace("CAPS", "read, write"))
    assert "DATA-DESTRUCTION@documents" in found
    assert found["DATA-DESTRUCTION@documents"].attack_path[-2:] == ("files", "documents")


def test_a_read_only_tool_deletes_nothing(write):
    assert "DATA-DESTRUCTION@documents" not in _findings(write, COMPUTER_USE.replace("CAPS", "read"))


def test_a_sandbox_earns_nothing_against_damage_inside_it(write):
    sandboxed = _findings(write, COMPUTER_USE.replace("CAPS", "read, write"))
    open_host = _findings(write, COMPUTER_USE.replace("CAPS", "read, write").replace("sandboxed: true", "sandboxed: false"))
    for finding in ("DATA-DESTRUCTION@documents", "EXCESSIVE-AGENCY@files"):
        assert sandboxed[finding].score.value == open_host[finding].score.value, finding


SHELL = """system: {name: coding agent}
boundaries: [{id: dev, trust: internal}]
components:
  - {id: developer, kind: person}
  - {id: repo-issues, kind: external-service, name: Public issue tracker}
  - {id: agent, kind: agent, boundary: dev}
  - {id: shell, kind: tool, boundary: dev, capabilities: [execute], sandboxed: SANDBOX}
  - {id: credential-files, kind: secret, boundary: dev, name: ~/.aws and ~/.ssh}
flows:
  - {from: developer, to: agent, protocol: SSH}
  - {from: repo-issues, to: agent, protocol: HTTPS, name: issue text}
  - {from: agent, to: shell, name: commands}
  - {from: credential-files, to: shell, name: readable by the shell}
"""


def test_an_injected_agent_with_a_shell_on_the_host_reads_what_the_shell_can(write):
    found = _findings(write, SHELL.replace("SANDBOX", "false"))
    assert "CREDENTIAL-THEFT@credential-files" in found
    assert found["CREDENTIAL-THEFT@credential-files"].attack_path[-2:] == ("shell", "credential-files")


def test_a_sandboxed_shell_does_not_hand_over_the_host(write):
    assert "CREDENTIAL-THEFT@credential-files" not in _findings(write, SHELL.replace("SANDBOX", "true"))


MCP = """system: {name: assistant with a registry MCP server}
boundaries: [{id: host, trust: internal}]
components:
  - {id: user, kind: person}
  - {id: agent, kind: agent, boundary: host}
  - {id: issues-mcp, kind: mcp-server, boundary: host, origin: ORIGIN, capabilities: [read]}
  - {id: github-token, kind: secret, boundary: host}
flows:
  - {from: user, to: agent, protocol: HTTPS, authenticated: true}
  - {from: agent, to: issues-mcp, bidirectional: true}
  - {from: github-token, to: issues-mcp, name: configured with}
"""


def test_a_third_party_mcp_server_is_someone_elses_code_holding_its_token(write):
    found = _findings(write, MCP.replace("ORIGIN", "third-party"))
    theft = found["CREDENTIAL-THEFT@github-token"]
    assert theft.attack_path[0] == "issues-mcp"
    assert "TOOL-SUPPLY-CHAIN@issues-mcp" in found


def test_an_in_house_mcp_server_is_no_dependency_actor(write):
    assert "CREDENTIAL-THEFT@github-token" not in _findings(write, MCP.replace("ORIGIN", "in-house"))


ENGINEER = """system: {name: deployment}
boundaries: [{id: prod, trust: restricted}]
components:
  - {id: engineer, kind: person}
  - {id: git, kind: source-repository, boundary: prod}
  - {id: dashboard, kind: monitoring, boundary: prod}
flows:
  - {from: engineer, to: git, protocol: SSH, name: pushes}
  - {from: engineer, to: dashboard, protocol: PROTOCOL, name: reads dashboards}
"""


def test_a_person_whose_class_one_flow_decides_gets_a_located_warning(write):
    warnings = [str(w) for w in _run(write, ENGINEER.replace("PROTOCOL", "HTTPS")).warnings]
    deciding = [w for w in warnings if "alone makes 'engineer'" in w]
    # the one SSH login makes them an operator; without it their HTTPS flow makes them anonymous
    assert len(deciding) == 1 and "model.yaml:8:" in deciding[0] and "'engineer-to-git'" in deciding[0], warnings
    assert "engineer or administrator connecting from outside" in deciding[0]
    assert "anonymous internet user" in deciding[0]


def test_a_person_whose_flows_agree_gets_no_class_warning(write):
    warnings = [str(w) for w in _run(write, ENGINEER.replace("PROTOCOL", "SSH")).warnings]
    assert not [w for w in warnings if "alone makes" in w], warnings
