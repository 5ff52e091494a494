import { KIND, indexOf, type Kind } from './ids.js';
import type {
  Channel,
  Connection,
  Leadgentool,
  Offer,
  Order,
  PaymentCredit,
  Person,
  Source,
  TagJson,
  Template,
  TemplateCategory,
  TrafficSource,
  Tunnel,
  User,
} from './model.js';
import { STREAM, deriveSeed } from './random.js';
import { NewestFirst } from './sorted.js';

/**
 * The whole simulated company: records, lookups and the newest-first orders that lists are
 * served from. Pure state; generate.ts fills it, mutate.ts changes it, render.ts shows it.
 */
export class World {
  readonly people: Person[] = [];
  readonly channels: Channel[] = [];
  readonly orders: Order[] = [];
  readonly peopleByLmt = new NewestFirst<Person>((p) => p.lmt);
  readonly channelsByLmt = new NewestFirst<Channel>((c) => c.lmt);
  readonly ordersByCreated = new NewestFirst<Order>((o) => o.createdAt);

  readonly users: User[] = [];
  readonly tunnels: Tunnel[] = [];
  readonly tags: TagJson[] = [];
  readonly connections: Connection[] = [];
  readonly categories: TemplateCategory[] = [];
  readonly offers: Offer[] = [];
  readonly paymentCredits: PaymentCredit[] = [];

  readonly usersById = new Map<string, User>();
  readonly tunnelsById = new Map<string, Tunnel>();
  readonly leadgentoolsById = new Map<string, Leadgentool>();
  readonly trafficSourcesById = new Map<string, TrafficSource>();
  readonly tagsById = new Map<string, TagJson>();
  readonly tagsByName = new Map<string, TagJson>();
  readonly connectionsById = new Map<string, Connection>();
  readonly connectionBySource = new Map<Source, Connection>();
  readonly categoriesById = new Map<string, TemplateCategory>();
  readonly templatesById = new Map<string, Template>();
  readonly offersById = new Map<string, Offer>();
  readonly paymentCreditsById = new Map<string, PaymentCredit>();

  companyId = '';
  /** The platform user the API token belongs to: author of messages, comments, traffic sources. */
  apiUserId = '';

  /** The neverWrote knob's share (the server keeps it current). */
  neverWrote = 0;

  private readonly nextIndex = new Map<Kind, number>();

  constructor(
    readonly seed: number,
    /** The simulator's `now`: every generated timestamp is at least a minute before it. */
    readonly now: number,
  ) {}

  /** A fresh index for ids of kinds that have no array of their own. */
  allocate(kind: Kind): number {
    const n = this.nextIndex.get(kind) ?? 0;
    this.nextIndex.set(kind, n + 1);
    return n;
  }

  /**
   * A person of the neverWrote share: none of its channels has a message, so it has no
   * lastMessageTime. Decided by (seed, index), and only while no history was written to it.
   */
  isSilent(p: Person): boolean {
    return this.inNeverWrote(p) && p.channels.every((c) => c.messages === null);
  }

  /** A channel without messages: of a neverWrote person, and never written to (its person may have written elsewhere since). */
  isSilentChannel(c: Channel): boolean {
    return c.messages === null && this.inNeverWrote(c.person);
  }

  private inNeverWrote(p: Person): boolean {
    return this.neverWrote > 0 && (deriveSeed(this.seed, STREAM.neverWrote, p.idx) >>> 0) / 4294967296 < this.neverWrote;
  }

  person(id: string): Person | undefined {
    const p = this.people[indexOf(id, KIND.person)];
    return p && p.id === id && !p.deleted ? p : undefined;
  }

  channel(id: string): Channel | undefined {
    const c = this.channels[indexOf(id, KIND.channel)];
    return c && c.id === id && !c.deleted ? c : undefined;
  }

  order(id: string): Order | undefined {
    const o = this.orders[indexOf(id, KIND.order)];
    return o && o.id === id ? o : undefined;
  }

  /** Appends a person and its channels to the arrays and the newest-first lists. */
  addPerson(p: Person): void {
    this.people.push(p);
    this.peopleByLmt.insert(p);
    for (const c of p.channels) this.addChannel(c);
  }

  addChannel(c: Channel): void {
    this.channels.push(c);
    this.channelsByLmt.insert(c);
  }

  addOrder(o: Order): void {
    this.orders.push(o);
    this.ordersByCreated.insert(o);
  }
}
