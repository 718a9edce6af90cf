// Secrets that may travel inside values (a password in a URL's userinfo) are never written out:
// errors show a URL with its password replaced, as Go's url.URL.Redacted does, and every log line
// passes through redactSecrets before it is written.

const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@"]*):[^@\s"/]*@/gi;

/** The text with every URL's password replaced by "xxxxx" ("http://user:xxxxx@host"). */
export function redactSecrets(text: string): string {
  return text.replace(URL_PASSWORD, '$1:xxxxx@');
}
