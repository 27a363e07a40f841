// Keeps credentials out of logs and HTTP output: passwords in connection URLs become `***`.

const urlPassword = /([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*:)[^@\s/]*@/gi;

export const redactSecrets = (text: string): string => text.replace(urlPassword, '$1***@');

/** A connection URL safe to show: password masked, or the input unchanged when it is not a URL. */
export const redactUrl = (url: string | undefined): string | undefined =>
  url === undefined ? undefined : redactSecrets(url);
