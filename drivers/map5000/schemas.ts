import * as z from 'zod';
import { isAreaPath, isWalktestPath, parseUserId } from './paths.js';

/**
 * The shapes of the answers panelctl reads, checked with zod before anything is used. An answer
 * that does not have the shape of the answer to the question asked (an echo of our request, a
 * page from some other server, a truncated body) fails here and becomes a protocol error (exit 5).
 * Field names are the JSON names of openapi.json 1.4.0272; unknown fields are ignored, so a newer
 * firmware that adds fields still works.
 */

const userIdText = z.string().refine((text) => parseUserId(text) !== undefined, 'a user id 004..998');
const syncId = z.number().int().nonnegative();

/** userType values (components.schemas.UserBasicData.userType.enum). */
export const USER_TYPES = [
  'Installer:Standard',
  'Installer:One-Time-Use',
  'Installer:Temporary',
  'User:Standard',
  'User:One-Time-Use',
  'User:Temporary',
] as const;
export type UserType = (typeof USER_TYPES)[number];

/** One entry of GET /users. The example writes "usertype" while the schema says "userType": both are read. */
export const userListEntry = z.object({
  id: userIdText,
  name: z.string().max(200).optional(),
  userType: z.string().max(40).optional(),
  usertype: z.string().max(40).optional(),
  active: z.boolean().optional(),
});
export type UserListEntry = z.infer<typeof userListEntry>;

/** GET /users: { "@self": "/users", list: [...] }. */
export const usersAnswer = z.object({
  '@self': z.literal('/users').optional(),
  list: z.array(userListEntry).max(995),
});

/** GET /usermodel/{id}: UserID + UserModel + UserModelSyncID (all fields as read, secrets included). */
export const userModelAnswer = z.object({
  id: userIdText,
  userType: z.enum(USER_TYPES).optional(),
  firstName: z.string().max(200).optional(),
  lastName: z.string().max(200).optional(),
  passcode: z.string().max(200).optional(),
  encryptedSecrets: z.boolean().optional(),
  userModelSyncID: syncId,
});
export type UserModelAnswer = z.infer<typeof userModelAnswer> & Record<string, unknown>;

/** The answer to POST /usermodel (201): only the new sync id. */
export const syncIdAnswer = z.object({ userModelSyncID: syncId });

/** GET /syncstatus: we read only the user table's id. */
export const syncStatusAnswer = z.object({ userModelSyncID: syncId });

/** GET /desc. */
export const descAnswer = z.object({
  '@self': z.literal('/desc').optional(),
  modelName: z.string().max(100),
  firmwareVersion: z.string().max(100).optional(),
  friendlyName: z.string().max(200).optional(),
  udn: z.string().max(200).optional(),
});

const areaPath = z.string().refine(isAreaPath, 'an area link like /1.1.Area.2.2');
/** Empty when no walk test runs in the area, else its link (components.schemas.area.walktest). */
const walktestLink = z.union([z.literal(''), z.string().refine(isWalktestPath, 'a walk test link like /walktest/<32 hex digits>')]);

export const areaEntry = z.object({ '@self': areaPath, walktest: walktestLink.optional() });
/** GET /areas. */
export const areasAnswer = z.object({ list: z.array(areaEntry).max(1000) });

/** POST /{area} STARTWALKTEST answers 200 { walktest: "/walktest/..." } (example "StartWalktest"). */
export const walktestStartedAnswer = z.object({ walktest: z.string().refine(isWalktestPath, 'a walk test link like /walktest/<32 hex digits>') });

export const WALKTEST_STATES = ['PENDING', 'STARTED', 'FAILED'] as const;
export const walktestEntry = z.object({
  '@self': z.string().refine(isWalktestPath, 'a walk test link like /walktest/<32 hex digits>'),
  user: z.string().max(40).optional(),
  interface: z.string().max(40).optional(),
  wt: z.array(z.object({ area: areaPath, wtStatus: z.string().max(40) })).max(1000),
});
/** GET /walktests. */
export const walktestsAnswer = z.object({ list: z.array(walktestEntry).max(1000) });
export type WalktestEntry = z.infer<typeof walktestEntry>;

/** components.schemas.Error409 (JSON); the walk test 409 is plain text instead (AreaSIIDApi.md). */
export const error409 = z.object({
  code: z.enum(['SyncError', 'DependencyConflict', 'AlreadyExists']),
  target: z.string().max(200).optional(),
  message: z.string().max(500).optional(),
});
/** components.schemas.Error400. */
export const error400 = z.object({ code: z.string().max(100), target: z.string().max(200).optional(), message: z.string().max(500).optional() });
