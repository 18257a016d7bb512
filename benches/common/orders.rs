//! The benchmark table `bench.orders`: 15 columns of the types a typical OLTP table mixes, and a
//! deterministic generator of its rows. Shared by `examples/gen_bench_backup.rs` and the
//! micro benches (each includes this file with `#[path]`).
//!
//! Columns: a BIGINT primary key (the row handle), INT, BIGINT UNSIGNED, DECIMAL(12,2), DOUBLE,
//! VARCHAR(32) and CHAR(12) of realistic lengths, TEXT (3 % of 256–1500 bytes, so those rows
//! go to the default CF), DATETIME, TIMESTAMP, DATE, ENUM, a small JSON document, SMALLINT and
//! DATETIME(6). About 5 % of the cells of each nullable column are NULL.
//!
//! With [`Text::Multilingual`] the table is `bench.orders_ml`: the same rows, except that the
//! three text columns are written in the language of the row's customer (English, Chinese,
//! Japanese, Korean, Russian, or a Latin script with accents, in the shares of [`LOCALES`]),
//! mixed with ASCII (codes, numbers, brand names) and a few emoji, and `sku` is a VARCHAR(32)
//! with a localised variant label. Mean lengths are 11, 56 and 20 characters (issue 13 profiled
//! a table of 15, 61 and 19).

use br_parquet::codec::time::PackedTime;
use br_parquet::testkit::{tp, Cell, TestColumn, TestRow, TestTable};
use serde_json::json;

/// Logical id of `bench.orders`.
pub const TABLE_ID: i64 = 100;

/// The language of the text columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Text {
    /// English words, names with a few accents: `bench.orders`.
    Ascii,
    /// Customers from many countries, each writing in their own script: `bench.orders_ml`.
    Multilingual,
}

/// `bench.orders` without rows.
pub fn table() -> TestTable {
    table_with(Text::Ascii)
}

/// `bench.orders` (ASCII text) or `bench.orders_ml` (multilingual text) without rows.
pub fn table_with(text: Text) -> TestTable {
    let name = match text {
        Text::Ascii => "orders",
        Text::Multilingual => "orders_ml",
    };
    TestTable::new("bench", name, TABLE_ID, columns(text))
}

/// The table's columns, in schema order.
pub fn columns(text: Text) -> Vec<TestColumn> {
    vec![
        TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
        TestColumn::new(2, "customer_id", tp::LONG),
        TestColumn::new(3, "trace_id", tp::LONGLONG).unsigned(),
        TestColumn::decimal(4, "amount", 12, 2),
        TestColumn::new(5, "score", tp::DOUBLE),
        TestColumn {
            flen: 32,
            ..TestColumn::text(6, "customer_name", tp::VARCHAR)
        }
        .not_null(),
        TestColumn {
            flen: 65_535,
            ..TestColumn::text(7, "note", tp::BLOB)
        },
        TestColumn::time(8, "created_at", tp::DATETIME, 0).not_null(),
        TestColumn::time(9, "updated_at", tp::TIMESTAMP, 0),
        TestColumn::time(10, "ship_date", tp::DATE, 0),
        TestColumn::elements(
            11,
            "status",
            tp::ENUM,
            &["new", "paid", "shipped", "delivered", "cancelled"],
        )
        .not_null(),
        TestColumn::new(12, "attrs", tp::JSON),
        TestColumn::new(13, "quantity", tp::SHORT),
        match text {
            Text::Ascii => TestColumn {
                flen: 12,
                ..TestColumn::text(14, "sku", tp::STRING)
            },
            Text::Multilingual => TestColumn {
                flen: 32,
                ..TestColumn::text(14, "sku", tp::VARCHAR)
            },
        },
        TestColumn::time(15, "seen_at", tp::DATETIME, 6),
    ]
}

/// SplitMix64: a tiny, fast, deterministic generator (no `rand` dependency needed).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (`hi > lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const SYLLABLES: &[&str] = &[
    "an", "be", "ca", "do", "el", "fi", "ga", "ho", "is", "ju", "ka", "lo", "ma", "ne", "or", "pa",
    "qu", "ri", "sa", "te", "ul", "vi", "wa", "xe", "yo", "zu", "ch", "st", "é", "ñ",
];

const WORDS: &[&str] = &[
    "please",
    "deliver",
    "before",
    "noon",
    "call",
    "the",
    "customer",
    "on",
    "arrival",
    "gift",
    "wrap",
    "fragile",
    "leave",
    "at",
    "door",
    "back",
    "order",
    "replacement",
    "for",
    "damaged",
    "item",
    "priority",
    "shipping",
    "requested",
    "invoice",
    "attached",
    "address",
    "changed",
    "warehouse",
    "north",
    "pickup",
    "weekend",
    "discount",
    "applied",
    "loyalty",
    "member",
];

/// Text of about `len` bytes: words and spaces (never cut inside a character).
fn words(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(WORDS[rng.range(0, WORDS.len() as u64) as usize]);
    }
    s
}

/// A name of 5–32 characters from syllables (a few non-ASCII).
fn name(rng: &mut Rng) -> String {
    let target = rng.range(5, 33) as usize;
    let mut s = String::with_capacity(target * 2);
    let mut chars = 0;
    while chars < target {
        let syllable = SYLLABLES[rng.range(0, SYLLABLES.len() as u64) as usize];
        for c in syllable.chars() {
            if chars < target {
                s.push(c);
                chars += 1;
            }
        }
        if chars == 5 && target > 10 {
            s.push(' ');
            chars += 1;
        }
    }
    s
}

/// Civil date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (u16, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
    (year, month, day)
}

/// A DATETIME/TIMESTAMP cell `seconds` after 1970-01-01 00:00:00.
fn time_cell(seconds: u64, micro: u32) -> Cell {
    let (year, month, day) = civil((seconds / 86_400) as i64);
    let in_day = seconds % 86_400;
    Cell::Time(PackedTime {
        year,
        month,
        day,
        hour: (in_day / 3600) as u8,
        minute: (in_day / 60 % 60) as u8,
        second: (in_day % 60) as u8,
        micro,
    })
}

/// 2015-01-01 .. 2025-01-01 in seconds since the epoch.
const SPAN_START: u64 = 1_420_070_400;
const SPAN_END: u64 = 1_735_689_600;

/// Row `handle` of `bench.orders`: every value depends on the seed and the handle only.
pub fn row(seed: u64, handle: i64) -> TestRow {
    row_with(seed, handle, Text::Ascii)
}

/// Row `handle` of [`table_with`]`(text)`. Both tables draw every value from the same generator,
/// so they differ only in the text columns, whose multilingual values come from a second one.
pub fn row_with(seed: u64, handle: i64, text: Text) -> TestRow {
    let mut rng = Rng(seed ^ (handle as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let mut cells = Vec::with_capacity(15);
    // About 5 % NULLs in each nullable column.
    let mut nullable = |rng: &mut Rng, id: i64, cell: Cell| {
        let cell = if rng.chance(5) { Cell::Null } else { cell };
        cells.push((id, cell));
    };
    let customer = rng.range(0, 2_000_000) as i64 - 1000;
    nullable(&mut rng, 2, Cell::Int(customer));
    let trace = rng.next();
    nullable(&mut rng, 3, Cell::Uint(trace));
    let cents = rng.range(0, 10_000_000) as i64 * if rng.chance(3) { -1 } else { 1 };
    let amount = format!(
        "{}{}.{:02}",
        if cents < 0 { "-" } else { "" },
        cents.abs() / 100,
        cents.abs() % 100
    );
    nullable(&mut rng, 4, Cell::Decimal(amount));
    let score = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * 1000.0;
    nullable(&mut rng, 5, Cell::Float(score));
    let customer_name = name(&mut rng);
    // The note: mostly short, 10 % of 40–120 bytes and 3 % of 256–1500 bytes (those rows, and
    // a few others, are longer than 255 bytes and go to the default CF).
    let note_len = match rng.range(0, 100) {
        0..=2 => rng.range(256, 1500),
        3..=12 => rng.range(40, 120),
        _ => rng.range(4, 32),
    } as usize;
    let note = words(&mut rng, note_len);
    let created = rng.range(SPAN_START, SPAN_END);
    let updated = created + rng.range(0, 90 * 86_400);
    let ship = created / 86_400 + rng.range(1, 15);
    let status = rng.range(1, 6);
    let source = ["web", "app", "pos", "api"][rng.range(0, 4) as usize];
    let mut attrs = json!({"src": source, "v": rng.range(1, 5)});
    if rng.chance(30) {
        attrs["tags"] = (0..rng.range(1, 4))
            .map(|i| format!("t{}", i * 7 + rng.range(0, 7)))
            .collect();
    }
    let quantity = rng.range(1, 1000) as i64;
    let sku = format!("SKU-{:08X}", rng.next() as u32);
    let seen = created + rng.range(0, 3600);
    let seen_micro = rng.range(0, 1_000_000) as u32;
    let (customer_name, note, sku) = match text {
        Text::Ascii => (customer_name, note, sku),
        Text::Multilingual => {
            let mut rng = Rng(!seed ^ (handle as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            multilingual(&mut rng, &sku)
        }
    };
    cells.push((6, Cell::Str(customer_name)));
    let mut nullable = |rng: &mut Rng, id: i64, cell: Cell| {
        let cell = if rng.chance(5) { Cell::Null } else { cell };
        cells.push((id, cell));
    };
    nullable(&mut rng, 7, Cell::Str(note));
    let created = time_cell(created, 0);
    nullable(&mut rng, 9, time_cell(updated, 0));
    let (y, m, d) = civil(ship as i64);
    nullable(&mut rng, 10, Cell::time(y, m, d, 0, 0, 0, 0));
    nullable(&mut rng, 12, Cell::Json(attrs, String::new()));
    nullable(&mut rng, 13, Cell::Int(quantity));
    nullable(&mut rng, 14, Cell::Str(sku));
    nullable(&mut rng, 15, time_cell(seen, seen_micro));
    cells.push((8, created));
    cells.push((11, Cell::Enum(status)));
    // Column ids in the value are sorted by the row encoder; the order here does not matter.
    TestRow::new(handle, cells)
}

/// One language's text material.
pub struct Locale {
    /// Share of customers, in percent (the shares add up to 100).
    pub percent: u64,
    /// Given names and family names; a name is one of each, in the locale's order.
    pub given: &'static [&'static str],
    pub family: &'static [&'static str],
    /// Whether the family name comes first (and nothing separates CJK names).
    pub family_first: bool,
    /// Words of delivery notes, and what separates them.
    pub words: &'static [&'static str],
    pub separator: &'static str,
    /// Variant labels of a product (colour, size).
    pub variants: &'static [&'static str],
}

/// The customers' languages, in realistic shares for a TiDB user with customers in Asia, Europe
/// and the Americas: text in CJK scripts (3 bytes a character), Cyrillic (2 bytes), Latin with
/// accents (1–2 bytes) and English (ASCII).
#[rustfmt::skip]
pub const LOCALES: &[Locale] = &[
    Locale {
        percent: 35,
        given: &["John", "Mary", "Robert", "Linda", "Michael", "Sarah", "David", "Emily", "James",
            "Jessica"],
        family: &["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
            "Anderson", "Taylor"],
        family_first: false,
        words: &["please", "deliver", "before", "noon", "call", "the", "customer", "on", "arrival",
            "gift", "wrap", "fragile", "leave", "at", "door", "order", "replacement", "damaged",
            "item", "priority", "shipping", "invoice", "attached", "address", "changed"],
        separator: " ",
        variants: &["Black / M", "White / L", "Navy / XL", "Red / S", "Grey", "Blue / 42", "128GB"],
    },
    Locale {
        percent: 25,
        given: &["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "艳", "杰", "娟", "涛", "明"],
        family: &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "欧阳"],
        family_first: true,
        words: &["请", "在", "中午", "之前", "送达", "到货", "前", "电话", "联系", "客户", "礼品", "包装", "易碎", "放在",
            "门口", "订单", "更换", "损坏", "商品", "优先", "发货", "发票", "已附", "地址", "已变更", "仓库", "自提", "周末",
            "折扣", "会员", "，", "。"],
        separator: "",
        variants: &["红色 XL", "黑色/M", "白色 L码", "蓝色 42码", "深灰色", "256GB 银色"],
    },
    Locale {
        percent: 10,
        given: &["花子", "太郎", "陽翔", "結衣", "さくら", "ゆうと", "美咲", "健太"],
        family: &["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村"],
        family_first: true,
        words: &["午前中", "に", "配達", "を", "お願い", "します", "玄関", "前", "置き配", "ギフト", "包装", "壊れ物", "注意",
            "領収書", "同封", "住所", "変更", "週末", "ポイント", "会員", "、", "。"],
        separator: "",
        variants: &["ブラック M", "ホワイト L", "ネイビー", "レッド S", "グレー XL"],
    },
    Locale {
        percent: 5,
        given: &["민준", "서연", "지호", "하은", "도윤", "지우", "서준", "수아"],
        family: &["김", "이", "박", "최", "정", "강", "조", "윤"],
        family_first: true,
        words: &["배송", "전", "연락", "부탁드립니다", "문", "앞에", "놓아", "주세요", "선물", "포장", "파손", "주의", "교환",
            "주소", "변경", "주말", "할인", "회원"],
        separator: " ",
        variants: &["블랙 M", "화이트 L", "네이비 XL", "그레이"],
    },
    Locale {
        percent: 10,
        given: &["Александр", "Дмитрий", "Мария", "Анна", "Елена", "Сергей", "Ольга", "Иван",
            "Наталья", "Михаил"],
        family: &["Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Козлов",
            "Новикова", "Морозов", "Волкова"],
        family_first: false,
        words: &["пожалуйста", "доставьте", "до", "полудня", "позвоните", "клиенту", "при",
            "прибытии", "подарочная", "упаковка", "хрупкое", "оставьте", "у", "двери", "заказ",
            "замена", "повреждённого", "товара", "срочная", "доставка", "счёт", "приложен",
            "адрес", "изменён", "склад", "самовывоз"],
        separator: " ",
        variants: &["Чёрный M", "Белый L", "Синий 42", "Серый XL", "Красный"],
    },
    Locale {
        percent: 15,
        given: &["José", "María", "François", "Hélène", "Jürgen", "Zoë", "Łukasz", "Søren",
            "Björn", "Inês", "Renée", "Noël", "Élodie", "Thu", "Đức"],
        family: &["García", "Müller", "Dubois", "Lefèvre", "Gonçalves", "Kowalczyk", "Schröder",
            "Núñez", "Fernández", "Peña", "Nguyễn", "Trần", "Lê"],
        family_first: false,
        words: &["livraison", "avant", "midi", "appelez", "à", "l'arrivée", "emballage", "cadeau",
            "déposer", "porte", "bitte", "vor", "Tür", "zerbrechlich", "Geschenkverpackung", "für",
            "Straße", "por", "favor", "entregar", "mediodía", "envío", "frágil", "dirección",
            "almacén", "giao", "hàng", "trước", "buổi", "trưa", "gọi", "điện", "cửa"],
        separator: " ",
        variants: &["Noir / M", "Weiß / L", "Azul marino", "Rouge S", "Grün 42", "Đỏ XL"],
    },
];

/// Emoji customers put in notes (one with a variation selector).
const EMOJI: &[&str] = &["😀", "🎁", "🚚", "👍", "❤️", "🙏", "📦", "✨", "😊"];

/// ASCII that text in any language mixes in: codes, numbers, brand names.
const ASCII_TOKENS: &[&str] = &[
    "iPhone", "SF", "2", "B-12", "QR", "PayPal", "No.5", "10:30", "OK", "EMS",
];

/// A customer's name, note and SKU (`sku` followed by a variant label) in one language.
fn multilingual(rng: &mut Rng, sku: &str) -> (String, String, String) {
    let mut pick = rng.range(0, 100);
    let locale = LOCALES
        .iter()
        .find(|l| {
            let hit = pick < l.percent;
            pick = pick.saturating_sub(l.percent);
            hit
        })
        .unwrap_or(&LOCALES[0]);
    let any = |rng: &mut Rng, list: &[&'static str]| list[rng.range(0, list.len() as u64) as usize];
    let chars = |s: &str| s.chars().count();

    // A name, or a name and a company: CJK names are short, so they get companies more often.
    let family = any(rng, locale.family);
    let given = any(rng, locale.given);
    let mut name = if locale.family_first {
        format!(
            "{family}{}{given}",
            if locale.separator.is_empty() { "" } else { " " }
        )
    } else {
        format!("{given} {family}")
    };
    let company_percent = if locale.separator.is_empty() { 60 } else { 20 };
    if rng.chance(company_percent) {
        while chars(&name) < 12 {
            name.push_str(locale.separator);
            name.push_str(any(rng, locale.words));
        }
    }
    let name: String = name.chars().take(32).collect();

    // Notes: mostly a short sentence, 12 % a paragraph, 3 % a long message.
    let target = match rng.range(0, 100) {
        0..=2 => rng.range(250, 1000),
        3..=14 => rng.range(50, 160),
        _ => rng.range(8, 48),
    } as usize;
    let mut note = String::new();
    let mut length = 0;
    while length < target {
        if !note.is_empty() {
            note.push_str(locale.separator);
        }
        let word = if rng.chance(8) {
            any(rng, ASCII_TOKENS)
        } else {
            any(rng, locale.words)
        };
        note.push_str(word);
        length += chars(word) + chars(locale.separator);
    }
    if rng.chance(8) {
        note.push(' ');
        note.push_str(any(rng, EMOJI));
    }
    let sku = format!("{sku} {}", any(rng, locale.variants));
    (name, note, sku)
}
