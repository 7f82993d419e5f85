import mongoose from 'mongoose';
import type { DeadlineReminderRepository } from '../types.js';
import { isDuplicateKey, schemaOptions, type Collection } from './database.js';

/** Keyed by user, deadline and reminder: the unique `_id` lets exactly one of racing writers in. */
export interface DeadlineReminderDoc {
  _id: string;
  userId: string;
  sentAt: Date;
}

export const deadlineReminderSchema = new mongoose.Schema<DeadlineReminderDoc>(
  { _id: { type: String, required: true }, userId: { type: String, required: true }, sentAt: { type: Date, required: true } },
  { ...schemaOptions, collection: 'deadlineReminders' },
);
// Erasing an account deletes its reminders.
deadlineReminderSchema.index({ userId: 1 });

export function mongoDeadlineReminders(reminders: Collection<DeadlineReminderDoc>): DeadlineReminderRepository {
  return {
    async claim(userId, deadline, reminder, at) {
      try {
        await reminders.insertOne({ _id: `${userId}:${deadline.getTime()}:${reminder}`, userId, sentAt: at });
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },
  };
}
