/**
 * Errors whose message is a sentence meant for the person who caused them (a user at a form, an
 * operator at the command line). Anything else is an internal error and is never shown.
 */
/** Where the person can go from an error page to put things right (besides their account page). */
export interface WayOn {
  readonly href: string;
  readonly label: string;
}

export class UserError extends Error {
  constructor(message: string, readonly status = 400, readonly wayOn?: WayOn) {
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
  /** `field`: the input that conflicts (a slug or client id already taken), for the sentence next to it. */
  constructor(message: string, readonly field?: string) {
    super(message, 409);
  }
}

export class ForbiddenError extends UserError {
  constructor(message: string) {
    super(message, 403);
  }
}
