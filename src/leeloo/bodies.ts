/**
 * The request bodies of the write endpoints: their documented fields, with their wire types.
 * The client's request types are inferred from these, and src/writes builds its payload
 * validation on them (same fields, stricter rules: src/writes/validate.ts), so each field is
 * named in one place. Re-exported by schemas.ts.
 */
import { z } from 'zod';

const idText = z.string();
const dateOrText = z.union([z.date(), z.string()]);

export const sendTemplateBody = z.object({ account_id: idText, template_id: idText, variables: z.record(z.string(), z.string()).optional() });
export type SendTemplateBody = z.infer<typeof sendTemplateBody>;

export const sendMessageBody = z.object({ account_id: idText, text: z.string() });
export type SendMessageBody = z.infer<typeof sendMessageBody>;

export const createTrafficSourceBody = z.object({ name: z.string(), description: z.string().optional() });
export type CreateTrafficSourceBody = z.infer<typeof createTrafficSourceBody>;

export const createOrderBody = z.object({
  /** Platform user the order is assigned to; omitted means "System". */
  managerId: idText.optional(),
  offerId: idText,
  /** Payment system id (platform settings). */
  paymentCreditsId: idText,
  email: z.string().optional(),
  phone: z.string().optional(),
  /** Sent as ISO-8601 (`2020-02-04T11:46:48.803Z`). */
  transactionDate: dateOrText.optional(),
  /** The docs' example sends the string "false"; passed through as given. */
  isNotifyAccount: z.union([z.boolean(), z.enum(['true', 'false'])]).optional(),
  personId: idText.optional(),
});
export type CreateOrderBody = z.infer<typeof createOrderBody>;

export const updateOrderStatus = z.enum(['RESOLVED', 'REJECTED']);
export type UpdateOrderStatus = z.infer<typeof updateOrderStatus>;

export const updateOrderFields = z.object({
  status: updateOrderStatus,
  /** The actual amount received; sent as text in the form. */
  price: z.union([z.number(), z.string()]).optional(),
  currency: z.string().optional(),
  /** Sent as `YYYY-MM-DD HH:mm` UTC, the docs' example form; strings are passed through. */
  paymentDate: dateOrText.optional(),
  userComments: z.string().optional(),
});
export type UpdateOrderFields = z.infer<typeof updateOrderFields>;

export const updatePersonBody = z.object({
  phone: z.string().optional(),
  email: z.string().optional(),
  /** type: EMAIL | PHONE | DATE | KEYWORD | NUMBER (docs). */
  custom_fields: z.array(z.object({ type: z.string(), name: z.string(), value: z.string() })).optional(),
});
export type UpdatePersonBody = z.infer<typeof updatePersonBody>;

export const createPersonBody = z.object({
  name: z.string(),
  email: z.string().optional(),
  /** `+` followed by digits (docs/leeloo-api.md); checked before sending. */
  phone: z.string().optional(),
  leadgentool_id: idText,
  connected_users_ids: z.array(idText).optional(),
});
export type CreatePersonBody = z.infer<typeof createPersonBody>;

export const addSmsConnectionBody = z.object({
  connection_id: idText,
  data: z.array(z.object({ name: z.string(), phone: z.string(), email: z.string().optional() })),
  leadgentool_id: idText,
  /** Tag ids here, not names (docs example). */
  tags: z.array(idText).optional(),
});
export type AddSmsConnectionBody = z.infer<typeof addSmsConnectionBody>;

export const manualSubscribeFields = z.object({ tunnel_id: idText, tunnel_block_id: idText });
export type ManualSubscribeFields = z.infer<typeof manualSubscribeFields>;
