"""Email through an SMTP server with smtplib, its errors translated into ours.

One connection per message: EHLO, STARTTLS when asked (credentials are only ever sent after it),
then the message as multipart/alternative (plain text, and HTML when there is some). The
Message-ID carries our reference, so a bounce or a complaint can be traced to its outbox row;
no address, subject or body is ever logged.
"""
from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from integrations.ports import Accepted, Email, FateUnknownError, PermanentError, RetryableError

log = logging.getLogger(__name__)

_UNSAFE_IN_MSGID = re.compile(r"[^A-Za-z0-9._-]")
STARTTLS_NOT_OFFERED = (
    "The mail server does not offer STARTTLS, and SMTP_STARTTLS is on: point SMTP_HOST and "
    "SMTP_PORT at a submission server that offers it (usually port 587), or set "
    "SMTP_STARTTLS=false only for a relay on a trusted network (no SMTP_USERNAME then).")


class _StartTlsNotOffered(Exception):
    """STARTTLS was asked for and the server's EHLO did not offer it."""


class _Submission(smtplib.SMTP):
    """An SMTP connection that notes when the server said 354 ("start mail input") to DATA:
    from then on the message may be with the server, so a lost connection leaves its fate
    unknown, where before it the server cannot have it."""

    data_started = False

    def getreply(self) -> tuple[int, bytes]:
        code, text = super().getreply()
        if code == 354:
            self.data_started = True
        return code, text


class SmtpEmailSender:
    """``EmailSender`` for any SMTP submission server (port 587 with STARTTLS by default).

    ``tls_context`` is the context STARTTLS verifies the server with: the system's trusted CAs
    unless given (a private CA, or a test's self-signed certificate).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        mail_from: str,
        timeout: float = 10,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if username and not starttls:
            raise ValueError("SMTP credentials are only sent after STARTTLS: enable SMTP_STARTTLS.")
        address = parseaddr(mail_from)[1]
        if "@" not in address:
            raise ValueError("mail_from must contain an email address.")
        self.host = host
        self.port = port
        self.starttls = starttls
        self.mail_from = mail_from
        self._username = username
        self._password = password
        self.timeout = timeout  # seconds for each step (connect, every reply)
        self._tls_context = tls_context
        self._msgid_domain = address.rpartition("@")[2]

    def message_id(self, reference: str) -> str:
        """``<reference@sender-domain>``: the same for every try of one outbox message, so a
        resend after an unclear failure is recognisably the same email."""
        local = _UNSAFE_IN_MSGID.sub("-", reference) or "message"
        return f"<{local}@{self._msgid_domain}>"

    def build(self, message: Email) -> EmailMessage:
        mime = EmailMessage()
        mime["From"] = self.mail_from
        mime["To"] = Address(addr_spec=message.to)  # exactly one address, or ValueError
        mime["Subject"] = message.subject
        mime["Date"] = format_datetime(datetime.now(UTC))
        mime["Message-ID"] = self.message_id(message.reference)
        # RFC 3834: a notification, so out-of-office robots should not answer it.
        mime["Auto-Submitted"] = "auto-generated"
        mime.set_content(message.text)
        if message.html:
            mime.add_alternative(message.html, subtype="html")
        return mime

    def send_email(self, message: Email) -> Accepted:
        try:
            mime = self.build(message)
        except (ValueError, TypeError, IndexError, HeaderParseError) as error:
            # A header with a line break, an address that does not parse: resending won't help.
            raise PermanentError(f"Email could not be built: {type(error).__name__}") from None
        message_id = str(mime["Message-ID"])
        try:
            self._submit(mime)
        except FateUnknownError:
            log.warning("email %s: no answer after the message data; fate unknown",
                        message.reference)
            raise
        except _StartTlsNotOffered:
            # Configuration, or someone stripping STARTTLS on the way: waiting will not change it.
            log.warning("email %s: the SMTP server does not offer STARTTLS", message.reference)
            raise PermanentError(STARTTLS_NOT_OFFERED) from None
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise self._refused(message.reference, max(codes, default=-1), "recipient") from None
        except smtplib.SMTPResponseException as error:
            # SMTPSenderRefused, SMTPDataError, SMTPConnectError, SMTPAuthenticationError, …
            raise self._refused(message.reference, error.smtp_code,
                                type(error).__name__) from None
        except smtplib.SMTPNotSupportedError as error:
            # AUTH not offered, or SMTPUTF8 needed and not offered: configuration.
            log.warning("email %s: SMTP server lacks a needed extension", message.reference)
            raise PermanentError(f"SMTP server lacks a needed extension: {error}") from None
        except smtplib.SMTPServerDisconnected:
            log.warning("email %s: SMTP server disconnected", message.reference)
            raise RetryableError("SMTP server disconnected") from None
        except smtplib.SMTPException as error:
            log.warning("email %s: SMTP error (%s)", message.reference, type(error).__name__)
            raise RetryableError(f"SMTP error: {type(error).__name__}") from None
        except OSError as error:
            # Connection refused, DNS, timeouts, TLS handshake or certificate failures.
            log.warning("email %s: SMTP server unreachable (%s)", message.reference,
                        type(error).__name__)
            raise RetryableError(f"SMTP server unreachable: {type(error).__name__}") from None
        provider_id = message_id.strip("<>")
        log.info("email %s: accepted by SMTP server as %s", message.reference, provider_id)
        return Accepted(provider_id=provider_id, status="sent")

    def _submit(self, mime: EmailMessage) -> None:
        """Raises ``FateUnknownError`` when the connection is lost (or times out) after the
        server took the message data and before it answered: the server may have it."""
        smtp = _Submission(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.starttls:
                if not smtp.has_extn("starttls"):
                    raise _StartTlsNotOffered
                context = self._tls_context or ssl.create_default_context()
                smtp.starttls(context=context)
                smtp.ehlo()
            if self._username:
                smtp.login(self._username, self._password or "")
            smtp.send_message(mime)
        except BaseException as error:
            smtp.close()  # no QUIT: after a timeout it would only wait again
            # A disconnect or timeout (smtplib's errors are OSErrors) after the 354, as opposed
            # to the server's answer to the data (SMTPDataError, a response).
            if (smtp.data_started and isinstance(error, OSError)
                    and not isinstance(error, smtplib.SMTPResponseException)):
                raise FateUnknownError(
                    f"No answer from the SMTP server after the message: {type(error).__name__}",
                    provider_id=str(mime["Message-ID"]).strip("<>")) from None
            raise
        # The server has said 250 to the data, so the email is sent: a failing QUIT must not
        # turn that into an error (and a retry, and a second email).
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
        smtp.close()

    @staticmethod
    def _refused(reference: str, code: int, stage: str) -> RetryableError | PermanentError:
        if 500 <= code < 600:
            log.info("email %s: refused by SMTP server (%s, %s)", reference, stage, code)
            return PermanentError(f"SMTP server refused the email ({stage}, {code})", code=code)
        log.warning("email %s: SMTP server deferred the email (%s, %s)", reference, stage, code)
        return RetryableError(f"SMTP server deferred the email ({stage}, {code})", code=code)
