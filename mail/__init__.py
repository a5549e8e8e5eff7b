"""mail: transactional mail that is never lost.

A mail starts as a row in `outgoing_mail`, written by `queue_mail()` in the same
transaction as the change it reports (an order placed, paid, cancelled, refunded...): a
crash between the two loses neither, and a rolled-back change sends nothing. The row
names what the mail is about (an order, an account) and to whom, not its words: the
sender worker asks a renderer, given to it at composition time, for the subject and the
text and HTML parts when it first takes the row, keeps them on the row, and sends
through SMTP (aiosmtplib; STARTTLS or implicit TLS), retrying with backoff like the
delivery worker. With no SMTP server configured the mails are kept instead: written as
`.eml` files under DATA_DIR/mail/ and shown to operators at /admin/mail. A mail holding
a one-time link (`mail.models.SECRET_KINDS`) loses its stored words once handed over:
only the recipient's copy keeps the link.

Imports only store. Entry points: `mail.queue.queue_mail`, `mail.sender.MailSender`,
`mail.transport.transport_for`, `mail.read` (what operators see).
"""
