/**
 * One webhook HTTP attempt with Node's fetch (undici): redirects are never followed (a 3xx is a
 * failure: following one would let a receiver point us anywhere), the whole attempt — connect,
 * headers and the response excerpt — is bounded by `timeoutMs`, and at most `excerptBytesMax`
 * bytes of the response are read for the delivery log.
 */
export const RESPONSE_EXCERPT_BYTES_MAX = 1024;

export interface SendResult {
  statusCode: number | null;
  /** Null when the attempt succeeded (any 2xx). */
  error: string | null;
  responseExcerpt: string | null;
  latencyMs: number;
  /** The attempt was cut short by `abortSignal` (shutdown), not by the endpoint. */
  aborted: boolean;
}

export interface SendInput {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** The attempt's controller: the caller aborts it to cut the attempt short (shutdown); the timeout uses it too (one signal per attempt). */
  controller?: AbortController;
  fetchImpl?: typeof fetch;
}

function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } } | null;
  const cause = e?.cause;
  if (cause?.message) return cause.message;
  if (cause?.code) return cause.code;
  return e?.message ?? String(err);
}

/** Postgres text cannot hold U+0000; an excerpt is for humans, so replace it. */
function clean(s: string): string {
  return s.replace(/\u0000/g, '\uFFFD');
}

async function readExcerpt(body: ReadableStream<Uint8Array> | null, bytesMax: number): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  let complete = false;
  try {
    while (n < bytesMax) {
      const { done, value } = await reader.read();
      if (done) {
        complete = true;
        break;
      }
      chunks.push(value);
      n += value.byteLength;
    }
  } finally {
    // A body read to its end leaves the connection reusable; a longer one is cut off.
    if (!complete) await reader.cancel().catch(() => undefined);
  }
  return clean(Buffer.concat(chunks).subarray(0, bytesMax).toString('utf8'));
}

export async function sendWebhook(input: SendInput): Promise<SendResult> {
  const started = performance.now();
  const controller = input.controller ?? new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, input.timeoutMs);
  const elapsed = () => Math.max(0, Math.round(performance.now() - started));
  let statusCode: number | null = null;
  let location: string | null = null;
  try {
    const res = await (input.fetchImpl ?? fetch)(input.url, {
      method: 'POST',
      headers: input.headers,
      body: input.body,
      redirect: 'manual',
      signal: controller.signal,
    });
    statusCode = res.status;
    location = res.headers.get('location');
    let excerpt = '';
    try {
      excerpt = await readExcerpt(res.body, RESPONSE_EXCERPT_BYTES_MAX);
    } catch {
      // The status decides the outcome; a body cut by the timeout only shortens the log.
    }
    const latencyMs = elapsed();
    if (statusCode >= 200 && statusCode < 300) return { statusCode, error: null, responseExcerpt: excerpt, latencyMs, aborted: false };
    const error =
      statusCode >= 300 && statusCode < 400
        ? `redirect not followed: HTTP ${statusCode}${location ? ` to ${clean(location).slice(0, 500)}` : ''} (a 3xx is a failure; set the final URL as the callback URL)`
        : `HTTP ${statusCode}`;
    return { statusCode, error, responseExcerpt: excerpt, latencyMs, aborted: false };
  } catch (err) {
    const latencyMs = elapsed();
    const aborted = !timedOut && controller.signal.aborted;
    const error = timedOut
      ? `timed out after ${input.timeoutMs} ms${statusCode === null ? ' waiting for the response' : ''}`
      : aborted
        ? 'aborted: worker shutting down'
        : `request failed: ${clean(describe(err))}`;
    return { statusCode, error, responseExcerpt: null, latencyMs, aborted };
  } finally {
    clearTimeout(timer);
  }
}
