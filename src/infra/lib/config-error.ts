/** A configuration problem, naming the setting (thrown at start-up, never at request time). */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`configuration error: ${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}
