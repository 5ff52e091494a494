import { field, formatError, listField, notFound, textField, type Body } from '../http.js';
import { isObjectId } from '../ids.js';
import { CUSTOM_FIELD_TYPES, type CustomFieldJson, type CustomFieldType, type Person } from '../model.js';
import { addComment, addSmsPerson, addTag, createApiPerson, eventTime, removeTag, updatePerson } from '../mutate.js';
import { createdPerson, parseInclude, personDetail, personListItem } from '../render.js';
import { bodyId, dateParam, filteredPage, found, ok, pathId, slicePage, type Ctx, type Route } from './common.js';

/** POST /people: "Phones must be `+` followed by digits" (docs/leeloo-api.md, "Other"). */
const PHONE = /^\+\d{5,15}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function digits(s: string): string {
  return s.replace(/\D/g, '');
}

/**
 * GET /people. filter[last_message][from] and [to] are required (docs: "Обязателен"), both
 * inclusive. filter[tags] may repeat and matches people having ANY of the tags (the docs do
 * not say; "any" is the common reading of a repeated filter). filter[phone] compares digits
 * only, so `+380…` matches even when the client left the `+` unencoded (a query string turns
 * it into a space). filter[email] is exact, case-insensitive.
 */
function listPeople(ctx: Ctx): unknown {
  const q = ctx.query;
  const from = dateParam(q, 'from', true, ctx.knobs.datePrecision);
  const to = dateParam(q, 'to', true, ctx.knobs.datePrecision);
  const [start, end] = ctx.w.peopleByLmt.window(from, to);
  const tags = [...q.getAll('filter[tags]'), ...q.getAll('filter[tags][]')].filter((t) => t !== '');
  const phone = q.get('filter[phone]');
  const email = q.get('filter[email]');
  const items = ctx.w.peopleByLmt.items;
  const silent = ctx.w.neverWrote > 0;
  if (tags.length === 0 && phone === null && email === null && !silent) return slicePage(ctx, items, start, end, personListItem);
  const wantPhone = phone === null ? null : digits(phone);
  const wantEmail = email === null ? null : email.trim().toLowerCase();
  const keep = (p: Person) =>
    !(silent && ctx.w.isSilent(p)) &&
    (tags.length === 0 || p.tags.some((t) => tags.includes(t))) &&
    (wantPhone === null || (wantPhone !== '' && digits(p.phone) === wantPhone)) &&
    (wantEmail === null || p.email.toLowerCase() === wantEmail);
  return filteredPage(ctx, items, start, end, keep, personListItem);
}

function person(ctx: Ctx): Person {
  return found(ctx.w.person(pathId(ctx, 'person_id')));
}

function getPerson(ctx: Ctx): unknown {
  const d = personDetail(ctx.w, person(ctx), parseInclude(ctx.query.getAll('include')));
  return { data: d.data, included: d.included, status: 1 };
}

function customFields(body: Body): CustomFieldJson[] | undefined {
  const list = listField(body, 'custom_fields');
  if (list === undefined) return undefined;
  return list.map((f) => {
    if (f === null || typeof f !== 'object') throw formatError({ custom_fields: 'INVALID' });
    const o = f as Record<string, unknown>;
    const value = typeof o.value === 'number' ? String(o.value) : o.value;
    if (typeof o.name !== 'string' || o.name.trim() === '' || typeof value !== 'string' || !CUSTOM_FIELD_TYPES.includes(o.type as CustomFieldType)) {
      throw formatError({ custom_fields: 'INVALID' });
    }
    return { type: o.type as CustomFieldType, name: o.name, value };
  });
}

/** PUT /people/{id}: phone, email, custom_fields (merged by name); at least one of them. */
function putPerson(ctx: Ctx): unknown {
  const id = pathId(ctx, 'person_id');
  const phone = field(ctx.body, 'phone');
  const email = field(ctx.body, 'email');
  if (phone !== undefined && !PHONE.test(phone)) throw formatError({ phone: 'INVALID' });
  if (email !== undefined && !EMAIL.test(email)) throw formatError({ email: 'INVALID' });
  const fields = customFields(ctx.body);
  if (phone === undefined && email === undefined && fields === undefined) throw formatError({ body: 'REQUIRED' });
  const p = found(ctx.w.person(id));
  updatePerson(ctx.w, p, { phone, email, customFields: fields }, eventTime(p.updatedAt));
  return ok();
}

function requiredText(body: Body, name: string): string {
  const v = field(body, name);
  if (v === undefined || v === '') throw formatError({ [name]: 'REQUIRED' });
  return v;
}

/** POST /people: name, email, phone and leadgentool_id are required; connected_users_ids is not (docs NOTE). */
function postPerson(ctx: Ctx): unknown {
  const { w, body } = ctx;
  const name = requiredText(body, 'name');
  const email = requiredText(body, 'email');
  const phone = requiredText(body, 'phone');
  if (!EMAIL.test(email)) throw formatError({ email: 'INVALID' });
  if (!PHONE.test(phone)) throw formatError({ phone: 'INVALID' });
  const lgtId = bodyId(body, 'leadgentool_id') as string;
  const users = (listField(body, 'connected_users_ids') ?? []).map((u) => {
    if (!isObjectId(u)) throw formatError({ connected_users_ids: 'INVALID' });
    return u.toLowerCase();
  });
  found(w.leadgentoolsById.get(lgtId));
  for (const u of users) found(w.usersById.get(u));
  const c = createApiPerson(w, ctx.rng, { name, email, phone, contactedUserIds: [...new Set(users)], tags: [] }, 'MANUAL', w.connectionBySource.get('MANUAL'), eventTime());
  return { data: createdPerson(w, c), status: 1 };
}

const MAX_SMS_BATCH = 1000;

/** POST /people/sms: tags here are tag ids (unlike person objects, which carry names). */
function postSms(ctx: Ctx): unknown {
  const { w, body } = ctx;
  const data = listField(body, 'data');
  if (!data || data.length === 0) throw formatError({ data: 'REQUIRED' });
  if (data.length > MAX_SMS_BATCH) throw formatError({ data: 'TOO_MANY' });
  const entries = data.map((e) => {
    if (e === null || typeof e !== 'object') throw formatError({ data: 'INVALID' });
    const o = e as Body;
    const name = field(o, 'name');
    const phone = field(o, 'phone');
    const email = field(o, 'email');
    if (!name) throw formatError({ 'data.name': 'REQUIRED' });
    if (!phone || !PHONE.test(phone)) throw formatError({ 'data.phone': phone ? 'INVALID' : 'REQUIRED' });
    if (email !== undefined && email !== '' && !EMAIL.test(email)) throw formatError({ 'data.email': 'INVALID' });
    return { name, phone, email: email || 'NOT_DEFINED' };
  });
  const connId = bodyId(body, 'connection_id') as string;
  const lgtId = bodyId(body, 'leadgentool_id') as string;
  const tagIds = (listField(body, 'tags') ?? []).map((t) => {
    if (!isObjectId(t)) throw formatError({ tags: 'INVALID' });
    return t.toLowerCase();
  });
  const conn = found(w.connectionsById.get(connId));
  found(w.leadgentoolsById.get(lgtId));
  const tagNames = tagIds.map((t) => found(w.tagsById.get(t)).name);
  const t = eventTime();
  for (const e of entries) addSmsPerson(w, ctx.rng, { ...e, tags: tagNames }, conn, t);
  return { data: { count_to_process: entries.length }, status: 1 };
}

function postComment(ctx: Ctx): unknown {
  const id = pathId(ctx, 'person_id');
  const text = textField(ctx.body, 'comment');
  if (text === undefined) throw formatError({ comment: 'REQUIRED' });
  const p = found(ctx.w.person(id));
  return { data: addComment(ctx.w, p, text, eventTime()), status: 1 };
}

function tagChange(kind: 'add' | 'remove') {
  return (ctx: Ctx): unknown => {
    const id = pathId(ctx, 'person_id');
    const tagId = bodyId(ctx.body, 'tag_id') as string;
    const p = found(ctx.w.person(id));
    const tag = ctx.w.tagsById.get(tagId);
    if (!tag) throw notFound();
    if (kind === 'add') addTag(p, tag.name, eventTime(p.updatedAt));
    else removeTag(p, tag.name, eventTime(p.updatedAt));
    return { status: 1, data: {} };
  };
}

export const peopleRoutes: Route[] = [
  { method: 'GET', template: '/api/v2/people', list: true, handle: listPeople },
  { method: 'POST', template: '/api/v2/people/sms', write: true, handle: postSms },
  { method: 'GET', template: '/api/v2/people/:id', handle: getPerson },
  { method: 'PUT', template: '/api/v2/people/:id', write: true, handle: putPerson },
  { method: 'POST', template: '/api/v2/people', write: true, handle: postPerson },
  { method: 'PUT', template: '/api/v2/people/:id/add-comment', write: true, handle: postComment },
  { method: 'PUT', template: '/api/v2/people/:id/add-tag', write: true, handle: tagChange('add') },
  { method: 'PUT', template: '/api/v2/people/:id/remove-tag', write: true, handle: tagChange('remove') },
];
