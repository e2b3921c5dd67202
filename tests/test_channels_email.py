"""The e-mail adapter against a real SMTP server (aiosmtpd): plain, STARTTLS with login, TLS
from the first byte; SMTP's answers sorted into permanent and transient."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from fieldbot.channels.base import Sent
from fieldbot.channels.email import SmtpMailer, parse_smtp_url
from tests.smtp import SmtpServer, _free_port

FROM = "safety-desk@fieldbot.example"
TO = "mia@example.org"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer("plain")
    server.start()
    yield server
    server.stop()


def mailer_for(server: SmtpServer) -> SmtpMailer:
    return SmtpMailer(parse_smtp_url(server.url), FROM, tls_context=server.client_tls)


async def test_a_mail_arrives_with_its_subject_text_and_message_id(smtp: SmtpServer) -> None:
    sent = await mailer_for(smtp).send_mail(TO, "Alert A-12", "Rita missed her check-in.\n")

    assert sent.accepted and sent.provider_id.endswith("@fieldbot.example>")
    [got] = smtp.received
    assert got.recipients == [TO] and got.sender == FROM
    assert got.message["Subject"] == "Alert A-12"
    assert got.message["Message-ID"] == sent.provider_id
    assert got.message.get_payload(decode=True).decode().strip() == "Rita missed her check-in."


async def test_a_subject_cannot_smuggle_a_header_and_chinese_text_survives(
    smtp: SmtpServer,
) -> None:
    await mailer_for(smtp).send_mail(TO, "警报 A-12\r\nBcc: eve@example.org", "丽塔未报平安")

    [got] = smtp.received
    assert got.recipients == [TO] and got.message["Bcc"] is None
    assert str(got.message["Subject"]).startswith("=?utf-8?") or "警报" in got.message["Subject"]
    assert got.message.get_payload(decode=True).decode("utf-8").strip() == "丽塔未报平安"


async def test_an_unknown_mailbox_is_a_permanent_failure(smtp: SmtpServer) -> None:
    smtp.handler.refuse[TO] = "550 5.1.1 No such user"
    assert await mailer_for(smtp).send_mail(TO, "s", "t") == Sent(
        accepted=False, permanent=True, error="smtp 550")


async def test_a_busy_server_is_a_transient_failure(smtp: SmtpServer) -> None:
    smtp.handler.refuse[TO] = "451 4.3.0 Try again later"
    assert await mailer_for(smtp).send_mail(TO, "s", "t") == Sent(
        accepted=False, permanent=False, error="smtp 451")


async def test_no_server_listening_is_a_transient_failure() -> None:
    mailer = SmtpMailer(parse_smtp_url(f"smtp://127.0.0.1:{_free_port()}"), FROM)
    sent = await mailer.send_mail(TO, "s", "t")
    assert not sent.accepted and not sent.permanent and sent.error


@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_login_goes_over_tls_starttls_on_a_plain_port_or_tls_from_the_start(
    mode: str,
) -> None:
    server = SmtpServer(mode)
    server.start()
    try:
        sent = await mailer_for(server).send_mail(TO, "Alert", "text")
    finally:
        server.stop()
    assert sent.accepted
    assert [(r.tls, r.logged_in) for r in server.received] == [(True, True)]


async def test_a_wrong_password_is_a_permanent_failure() -> None:
    server = SmtpServer("starttls")
    server.start()
    try:
        url = server.url.replace("smtp-fixture-password", "wrong")
        sent = await SmtpMailer(parse_smtp_url(url), FROM, tls_context=server.client_tls
                                ).send_mail(TO, "s", "t")
    finally:
        server.stop()
    assert sent.accepted is False and sent.permanent and sent.error == "smtp 535"


async def test_a_password_is_never_sent_to_a_server_without_starttls(smtp: SmtpServer) -> None:
    url = f"smtp://user:hunter2pass@127.0.0.1:{smtp.port}"  # the plain server offers no TLS
    sent = await SmtpMailer(parse_smtp_url(url), FROM).send_mail(TO, "s", "t")
    assert not sent.accepted and smtp.received == []


def test_the_smtp_url_is_read_with_its_defaults() -> None:
    s = parse_smtp_url("smtp://user%40corp:p%3Ass@mail.example")
    assert (s.host, s.port, s.implicit_tls, s.username, s.password) == (
        "mail.example", 587, False, "user@corp", "p:ss")
    assert parse_smtp_url("smtps://mail.example").port == 465


@pytest.mark.parametrize("url", ["http://u:secretpw@h", "smtp://u:secretpw@", "smtp://h:99999"])
def test_a_bad_smtp_url_is_explained_without_its_password(url: str) -> None:
    with pytest.raises(ValueError, match="must|names no host|port") as caught:
        parse_smtp_url(url)
    assert "secretpw" not in str(caught.value)


async def test_addresses_and_texts_never_reach_the_log(
    smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    smtp.handler.refuse["olu@example.org"] = "550 no"
    await mailer_for(smtp).send_mail(TO, "Rita at Hotel Adlon", "Rita at Hotel Adlon")
    await mailer_for(smtp).send_mail("olu@example.org", "Rita", "Rita")
    own = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("fieldbot"))
    assert "Rita" not in own and "example.org" not in own and "550" in own
