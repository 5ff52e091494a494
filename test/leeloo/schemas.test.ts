import { describe, expect, it } from 'vitest';
import {
  accountDetailEnvelope,
  chatMessageSchema,
  listEnvelope,
  orderListItemSchema,
  personDetailEnvelope,
  personListItemSchema,
  tunnelDetailEnvelope,
  wrappedListEnvelope,
  connectionSchema,
  ackSchema,
} from '../../src/leeloo/schemas.js';

describe('schemas', () => {
  it('keep unknown fields at every level', () => {
    const item = {
      id: '5e1c7ce2b4066a01900cdba0',
      name: 'Feliks',
      email: 'NOT_DEFINED',
      phone: '+380966565556',
      tags: ['Mentor'],
      accounts: [{ account_id: '5e1c7ce2b4066a01900cdba1', connection_id: 'c', connection_status: 'OK', from: 'TELEGRAM', brandNew: { deep: [1, 2] } }],
      lastMessageTime: '2020-01-13T14:21:36.462Z',
      somethingNew: 42,
    };
    const env = { status: 1, data: [item], meta: { totalCount: 1, filteredCount: 1, limit: 20, offset: 0, cursor: 'x' }, extraTop: true };
    const r = listEnvelope(personListItemSchema).parse(env);
    expect(r).toEqual(env);
    expect((r.data[0] as Record<string, unknown>).somethingNew).toBe(42);
  });

  it('leave sentinels untouched in raw payloads', () => {
    const r = personListItemSchema.parse({ id: 'a', email: 'NOT_DEFINED', phone: 'NOT_DEFINED' });
    expect(r.email).toBe('NOT_DEFINED');
  });

  it('accept the nullable/optional fields and prices as strings', () => {
    expect(orderListItemSchema.safeParse({ id: 'o1', price: '100.50', currency: null }).success).toBe(true);
    expect(orderListItemSchema.safeParse({ id: 'o1', price: 100 }).success).toBe(true);
    expect(orderListItemSchema.safeParse({ id: 'o1' }).success).toBe(true);
    expect(chatMessageSchema.safeParse({ id: 'm', text: null, read: 'true' }).success).toBe(true);
  });

  it('are strict on ids', () => {
    const bad = listEnvelope(personListItemSchema).safeParse({ status: 1, data: [{ id: 'a' }, { id: 12345 }] });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['data', 1, 'id']);
    expect(personListItemSchema.safeParse({ id: '' }).success).toBe(false);
    expect(personListItemSchema.safeParse({ name: 'no id' }).success).toBe(false);
  });

  it('parse the v2 person example and the v1 account example (custom_fields array vs object)', () => {
    const v2 = {
      data: {
        id: '625946dd585052c1629f1b2b',
        name: 'Mark Spenser',
        tags: [],
        profileImage: 'NOT_DEFINED',
        gender: 'NO_DATA',
        phone: '+380977451111',
        email: 'Ray37@hotmail.com',
        locale: '',
        accounts: [{ account_id: '625946dd58505225f49f1b2c', connection_id: '5e1edc3f18fc56000c0159b3', connection_status: 'OK', from: 'TELEGRAM' }],
        subscribeHistory: [{ tunnelName: 'Default tunnel', tunnelId: '5e18a2a3ed0b7a000d6c9484', accountId: '625946dd58505225f49f1b2c' }],
        links: { contactedUsers: [{ type: 'users', id: '60509800acc5ae000d74ce21' }], orders: [{ type: 'orders', id: '65cf58ba1261175f8d40a75f' }] },
        custom_fields: [{ type: 'PHONE', name: 'phone', value: '+48881644207' }],
        created_at: '2022-04-15T10:20:13.546Z',
        updated_at: '2024-02-16T16:16:57.065Z',
      },
      included: {
        users: [{ id: '60509800acc5ae000d74ce21', name: 'Max', createdAt: '2021-03-16T11:35:28.644Z', updatedAt: '2024-02-19T12:59:04.460Z' }],
        orders: [{ id: '65cf58ba1261175f8d40a75f', title: 'for API', price: 100, currency: 'USD', status: 'OPENED', updatedAt: '2024-02-16T12:44:42.569Z' }],
      },
      status: 1,
    };
    expect(personDetailEnvelope.parse(v2)).toEqual(v2);
    const v1 = {
      data: {
        id: '59bbc641b1223300210cdf2f',
        name: 'Kurt Bowie',
        tags: ['tag3'],
        from: 'FACEBOOK',
        botStatus: 'BOT',
        gender: 'FEMALE',
        phone: '+38000434534',
        email: 'NOT_DEFINED',
        locale: 'en_US',
        subscribeHistory: [{ tunnelName: 'TunnelName_1', leadgentoolName: 'LGT_1', trafficSource: 'Default traffic source' }],
        links: { contactedUsers: [{ type: 'users', id: '58be00d668aaeaded60aa186' }], orders: [{ type: 'orders', id: '59f2e2425bb695001a3f6388' }] },
        custom_fields: { Email: 'test@test.com', дата: '2019-03-12T08:29:08.721Z' },
        createdAt: '2017-09-15T12:23:29.023Z',
        updatedAt: '2017-11-03T11:29:21.528Z',
      },
      included: {
        users: [{ id: '58be00d668aaeaded60aa186', name: 'Robert' }],
        orders: [{ price: 1, currency: 'UAH', paymentMethod: 'ASSET_PAYMENT', status: 'SUCCESS', updatedAt: '2017-10-27T07:39:19.363Z' }],
      },
      status: 1,
    };
    expect(accountDetailEnvelope.parse(v1)).toEqual(v1);
  });

  it('parse the tunnel detail with linked leadgentools', () => {
    const env = {
      status: 1,
      data: { id: '595f5d522a934035decc093d', name: 'My tunnel', createdAt: '2015-04-02T14:20Z', links: { leadgentools: [{ type: 'leadgentools', id: '222f5d522a934035decc093d' }] } },
      linked: { leadgentools: [{ id: '222f5d522a934035decc093d', name: 'LGT1', type: 'LINK' }] },
    };
    expect(tunnelDetailEnvelope.parse(env)).toEqual(env);
  });

  it('accept documented wrappers and bare arrays', () => {
    const s = wrappedListEnvelope('connections', connectionSchema);
    expect(s.safeParse({ data: { connections: [{ id: 'c', type: 'telegram', name: 'Bot' }] } }).success).toBe(true);
    expect(s.safeParse({ data: [{ id: 'c' }] }).success).toBe(true);
    expect(s.safeParse({ data: { connections: [{ id: 7 }] } }).success).toBe(false);
  });

  it('ack accepts {} and tolerates null/[]/extra fields', () => {
    for (const v of [{}, { ok: true }, [], null, undefined]) expect(ackSchema.safeParse(v).success).toBe(true);
  });
});
