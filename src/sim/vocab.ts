/**
 * Word lists for generated data. Names and texts deliberately mix scripts, emoji, quotes,
 * apostrophes, commas and newlines: a mirror must store them byte for byte.
 */

export const FIRST_NAMES = [
  'Олег', 'Марина', 'Андрій', 'Ірина', 'Дмитрий', 'Светлана', 'Mark', 'Anna', 'John', 'Emily',
  'Feliks', 'Kurt', 'Olha', 'Максим', 'Юлія', 'Sean', 'Zoë', 'José', 'Ngozi', 'Aiko',
  'Taras', 'Наталья', 'Pavlo', 'Kateryna', 'Ahmed', 'Léa', 'Søren', 'Ольга', 'Богдан', 'Mia',
];

export const LAST_NAMES = [
  'Петренко', 'Коваленко', 'Shevchenko', 'Smith', "O'Brien", 'Müller', 'Иванов', 'Бондар',
  'Down', 'Spenser', 'Bowie', 'Kowalski', 'Ткаченко', 'García', 'Nakamura', 'Lapaychuk',
  'Мельник', 'Dubois', 'Rossi', 'Кравчук', 'Nowak', 'Williams', 'Сидоренко', 'Ng',
];

/** Occasional decorations of display names, as messenger profiles have them. */
export const NAME_DECORATIONS = ['', '', '', '', '', '', ' 🌸', ' ✨', ' (work)', ' "Bob"', ' 🇺🇦', ', Jr.'];

const TRANSLIT: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'h', ґ: 'g', д: 'd', е: 'e', є: 'ye', ж: 'zh', з: 'z', и: 'y', і: 'i',
  ї: 'yi', й: 'i', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u',
  ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'shch', ь: '', ю: 'yu', я: 'ya', ы: 'y', э: 'e',
  ё: 'yo', ъ: '',
};

/** Lower-case ASCII for e-mail local parts. */
export function asciiSlug(s: string): string {
  let out = '';
  for (const ch of s.toLowerCase().normalize('NFD')) {
    if (/[a-z0-9]/.test(ch)) out += ch;
    else if (TRANSLIT[ch] !== undefined) out += TRANSLIT[ch];
  }
  return out || 'user';
}

export const EMAIL_DOMAINS = ['gmail.com', 'hotmail.com', 'ukr.net', 'example.com', 'mail.ru', 'yahoo.com', 'i.ua'];

export const PHONE_PREFIXES = ['+38050', '+38063', '+38066', '+38067', '+38068', '+38073', '+38093', '+38097', '+38099', '+48881', '+7916', '+4915'];

export const LOCALES = ['ru_RU', 'uk_UA', 'en_US', 'en_GB', 'pl_PL', 'de_DE', ''];

export const GENDERS = ['MALE', 'FEMALE', 'OTHER', 'NOT_DEFINED', 'NO_DATA'];

/** ~30 tags; names people carry verbatim, filters match them exactly. */
export const TAG_NAMES = [
  'VIP "gold"', 'Клиент, опт', '🔥 hot', 'Mentor', 'Professional', 'tag2', 'tag3', 'Tag 26',
  'новый лид', 'повторная продажа', 'холодный', 'B2B', 'B2C', 'webinar-2023', 'webinar-2024',
  'Відмова', 'чекає дзвінка', "didn't pay", 'refund?', 'партнёр', 'Kyiv', 'Warsaw', 'Berlin',
  '💎 premium', 'test', 'Учасник курсу #1', 'Учасник курсу #2', 'newsletter', 'a&b <c>', 'ñandú',
];

export const TUNNEL_NAMES = [
  'Default tunnel', 'for list', 'Вебінар: продажі', 'Black Friday 🛍', 'Onboarding', 'Курс "Старт"',
  'Lead magnet PDF', 'Re-activation', 'Partner program', 'Spring sale',
];

export const LEADGENTOOL_NAMES = ['New LGT', 'LGT1', 'Landing link', 'QR on flyer', 'Site widget', 'Exit popup', 'Contact form', 'FB ad set A', 'Кнопка на сайті'];

export const USER_NAMES = ['Max', 'Igor', 'Alexey', 'John Mack', 'Robert', 'Оксана', 'Марія Коваль', 'Dmytro', 'Sophie', 'Артём', 'Kate', 'Yusuf'];

export const CONNECTIONS = [
  { type: 'telegram', name: 'Telegram bot', source: 'TELEGRAM' },
  { type: 'facebook', name: 'Facebook page', source: 'FACEBOOK' },
  { type: 'viber', name: 'Viber bot', source: 'VIBER' },
  { type: 'instagram', name: 'Instagram direct', source: 'INSTAGRAM' },
  { type: 'whatsapp', name: 'WhatsApp business', source: 'WHATSAPP' },
  { type: 'vkontakte', name: 'VK group', source: 'VKONTAKTE' },
  { type: 'sms', name: 'SMS gateway', source: 'SMS' },
  { type: 'sendGrid', name: 'Sendgrid bot', source: 'MANUAL' },
] as const;

export const CATEGORY_NAMES = ['Category 1', 'Продажі', 'Support ✉️'];

export const TEMPLATE_NAMES = [
  'test template 1', 'test template 2', 'Привітання', 'Нагадування про оплату', 'Thanks for the order',
  'Follow-up', 'Знижка 10%', 'Webinar link', 'Feedback request', 'Welcome back',
];

export const TEMPLATE_TEXTS = [
  'Hello, {name}! Thanks for subscribing.',
  'Добрий день, {name}! Нагадуємо про оплату замовлення.',
  'Your order is confirmed 🎉',
  'Ссылка на вебинар: {link}',
  'Hi {name},\n\nhow did we do? Reply 1–5.',
  'Знижка 10% до кінця тижня для тебе, {name}!',
];

export const OFFER_NAMES = ['Ручной оффер', 'manual offer', 'Консультація 1:1', 'Course "Start"', 'Annual plan', 'for API'];

export const PAYMENT_CREDIT_NAMES = ['WayForPay main', 'Manual payments', 'Asset Payment'];

export const FRIEND_TEXTS = [
  'Hi!', 'Привет', 'Добрий день! Скільки коштує?', 'Good morning!', 'ok', '👍', 'How much is it?',
  'Хочу записаться на курс', 'Can I pay by card?', 'Дякую!', 'Where is my order?', '?',
  'Line one\nline two', 'He said "soon", it\'s been a week', '/start', 'Да, интересно 🙂',
];

export const BOT_TEXTS = [
  'Good morning, {name}! \n\nTest message content', 'Welcome! Choose an option below 👇',
  'Ваш заказ принят', 'Спасибо за подписку!', 'Here is your PDF: https://example.com/guide.pdf',
  'Last message', 'Оберіть зручний час', 'Test API v.1 message template',
];

export const YOUR_TEXTS = [
  'API message', 'Pre last message', 'Let me check and come back to you.', 'Менеджер на связи, слушаю вас',
  'Оплату отримали, дякуємо!', 'Sent you the invoice.', 'Could you share your e-mail?',
];

export const UTM_SOURCES = ['facebook', 'instagram', 'google', 'test_UTM_mark', 'newsletter', 'tiktok'];
export const UTM_MEDIUMS = ['cpc', 'social', 'email', 'banner'];
export const UTM_CAMPAIGNS = ['spring_sale', 'black-friday', 'webinar_2024', 'brand'];

export const CUSTOM_FIELD_DEFS = [
  { type: 'EMAIL', name: 'Email work' },
  { type: 'PHONE', name: 'номер телефона' },
  { type: 'DATE', name: 'дата' },
  { type: 'KEYWORD', name: 'текстовое выражение' },
  { type: 'NUMBER', name: 'budget' },
  { type: 'PHONE', name: 'phone' },
  { type: 'KEYWORD', name: 'приветственное сообщение' },
] as const;
