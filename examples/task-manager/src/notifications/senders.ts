import type { Logger } from '@relaybus/core';
import nodemailer from 'nodemailer';

/** An email to send. */
export interface Email {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** Sends email; the notification worker calls it once per notice (the inbox makes redeliveries no-ops). */
export interface EmailSender {
  readonly channel: 'log' | 'email';
  send(email: Email): Promise<{ messageId: string }>;
}

/** Sends text messages. */
export interface SmsSender {
  send(message: { readonly to: string; readonly text: string }): Promise<{ messageId: string }>;
}

/** Writes emails to the log instead of sending them: the default, so the app runs with nothing configured. */
export function logEmailSender(logger: Logger): EmailSender {
  let sent = 0;
  return {
    channel: 'log',
    async send(email) {
      logger.info(`email to ${email.to}: ${email.subject}`);
      return { messageId: `log-${++sent}` };
    },
  };
}

/** Writes text messages to the log. */
export function logSmsSender(logger: Logger): SmsSender {
  let sent = 0;
  return {
    async send(message) {
      logger.info(`sms to ${message.to}: ${message.text}`);
      return { messageId: `sms-${++sent}` };
    },
  };
}

/**
 * Sends email over SMTP with nodemailer, e.g. `smtp://user:pass@mail.example.com:587` (STARTTLS when the server
 * offers it) or `smtps://...:465`. The connection is pooled; `close()` ends it.
 */
export function smtpEmailSender(url: string, from: string): EmailSender & { close(): void } {
  const transporter = nodemailer.createTransport(url, { from });
  return {
    channel: 'email',
    async send(email) {
      const info = await transporter.sendMail({ to: email.to, subject: email.subject, text: email.text });
      return { messageId: info.messageId };
    },
    close: () => transporter.close(),
  };
}
