// `${NAME}` and `${NAME:-default}` in configuration text, from the environment.
// Unset variables without a default are reported, never silently replaced by ''.

export interface InterpolationResult {
  text: string;
  missing: string[];
}

export function interpolateEnv(text: string, env: NodeJS.ProcessEnv): InterpolationResult {
  const missing: string[] = [];
  const out = text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (match, name?: string, fallback?: string) => {
    if (match === '$$') return '$';
    const value = env[name!];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    missing.push(name!);
    return '';
  });
  return { text: out, missing };
}
