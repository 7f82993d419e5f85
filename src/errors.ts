/**
 * Errors whose message is a sentence meant for the person who caused them (a user at a form, an
 * operator at the command line). Anything else is an internal error and is never shown.
 */
export class UserError extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends UserError {
  constructor(message: string, readonly field?: string) {
    super(message, 400);
  }
}

export class NotFoundError extends UserError {
  constructor(message: string) {
    super(message, 404);
  }
}

export class ConflictError extends UserError {
  constructor(message: string) {
    super(message, 409);
  }
}

export class ForbiddenError extends UserError {
  constructor(message: string) {
    super(message, 403);
  }
}
