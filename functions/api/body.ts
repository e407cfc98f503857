import { type ApiEvent, badRequest, HttpError, header } from './http.js';
import { describePosition, jsonErrorPosition } from './json-position.js';

/** Requests are small (a recipe name and a few overrides); anything bigger is a mistake or abuse. */
export const MAX_BODY_BYTES = 64 * 1024;

const JSON_MEDIA_TYPE = /^application\/([\w.+-]+\+)?json$/i;

/**
 * The request body as JSON, or undefined when there is none and none is `required`. In order:
 * 413 over 64 KiB, 415 for a content type that is not JSON (none at all is taken as JSON),
 * 400 for a syntax error, naming where it is.
 */
export function readJsonBody(event: ApiEvent, options: { required: boolean }): unknown {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (text.trim() === '') {
    if (options.required) throw badRequest([{ path: '(body)', message: 'a JSON object is required' }]);
    return undefined;
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_BODY_BYTES) {
    throw new HttpError(413, {
      error: 'PayloadTooLarge',
      message: `the body is ${bytes} bytes; at most ${MAX_BODY_BYTES} are accepted`,
    });
  }
  const contentType = header(event, 'content-type');
  const mediaType = contentType?.split(';')[0]?.trim() ?? '';
  if (contentType !== undefined && !JSON_MEDIA_TYPE.test(mediaType)) {
    throw new HttpError(415, {
      error: 'UnsupportedMediaType',
      message: `content-type ${mediaType || '(empty)'} is not accepted: send application/json`,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const position = jsonErrorPosition(text);
    throw badRequest([
      {
        path: '(body)',
        message: `not valid JSON: ${position === undefined ? 'cannot be parsed' : describePosition(text, position)}`,
      },
    ]);
  }
}
