import { Type, type TSchema } from '@sinclair/typebox';

/**
 * Request schemas (TypeBox → JSON Schema) drive validation and our /openapi.json alike.
 * Bodies are validated strictly (no type coercion); query strings are coerced ("2" → 2).
 */
export const Str = (opts: { min?: number; max?: number; description?: string; pattern?: string } = {}) =>
  Type.String({
    minLength: opts.min ?? 1,
    maxLength: opts.max ?? 200,
    ...(opts.description ? { description: opts.description } : {}),
    ...(opts.pattern ? { pattern: opts.pattern } : {}),
  });

/** Optional and nullable: the guide's Python sample sends `null` for fields it does not have. */
export const OptStr = (opts: Parameters<typeof Str>[0] = {}) => Type.Optional(Type.Union([Str(opts), Type.Null()]));

export const Id = (description: string) => Str({ max: 64, description });

export const Enum = <T extends string>(values: readonly T[], description?: string) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });

export const PageQuery = {
  pageNum: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: 'Page number (1-based)' })),
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'Page size (max 100)' })),
};

/** Generic documented response: the contract envelope. Routes name their data in the summary. */
export const SuccessEnvelope = Type.Object({ status: Type.Literal('SUCCESS'), data: Type.Any() }, { additionalProperties: true });
export const ErrorEnvelope = Type.Object({
  status: Type.Union([Type.Literal('INVALID_PARAMETERS'), Type.Literal('UNAUTHORISED'), Type.Literal('FAILED')]),
  message: Type.String(),
});

export function responses(): Record<string, TSchema> {
  return { 200: SuccessEnvelope, 401: ErrorEnvelope, 422: ErrorEnvelope };
}
