import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { AppError } from './app-error.js';

/**
 * Own keys of `value` that the DTO class does not declare. class-transformer silently drops keys named
 * like Object.prototype members (`constructor`, `toString`, `__proto__`…) before class-validator's
 * `forbidNonWhitelisted` runs, so unknown keys are checked here, on the raw input.
 */
export function undeclaredKeys(dto: abstract new (...args: never[]) => unknown, value: unknown): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  const declared = new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(dto as new () => unknown, '', true, false)
      .map((m) => m.propertyName),
  );
  return Object.keys(value).filter((key) => !declared.has(key));
}

class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dto = metadata.metatype;
    if (dto && (metadata.type === 'body' || metadata.type === 'query') && !isBuiltin(dto)) {
      const unknown = undeclaredKeys(dto as new () => unknown, value);
      if (unknown.length > 0) {
        throw AppError.validation(unknown.map((field) => ({ field, message: `property ${field} should not exist` })));
      }
    }
    return super.transform(value, metadata);
  }
}

function isBuiltin(type: unknown): boolean {
  return type === String || type === Number || type === Boolean || type === Array || type === Object;
}

/** class-validator errors as the contract's `details.fields` entries (nested paths dotted). */
export function flatten(errors: ValidationError[], parent = ''): Array<{ field: string; message: string }> {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** Global DTO validation: unknown fields rejected, every problem listed in `details.fields`. */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    stopAtFirstError: false,
    exceptionFactory: (errors) => AppError.validation(flatten(errors)),
  });
}
