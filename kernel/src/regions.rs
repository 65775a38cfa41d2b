//! Regions: the province, its 21 cities in their groups, districts; and the
//! channels that sit outside the regions.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RegionKind {
    Province,
    City,
    District,
}

/// A province, city or district.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Region {
    /// Stable id, e.g. `huizhou`, `huizhou.huicheng`.
    pub id: String,
    pub name: String,
    pub kind: RegionKind,
    /// City for a district, province for a city, none for the province.
    pub parent: Option<String>,
    /// City group for a city: `prd`, `east`, `west`, `north`.
    pub group: Option<String>,
    /// A city under separate state planning (计划单列市), e.g. Shenzhen.
    pub separately_planned: bool,
}

/// The platform's channels (渠道) with their names: the ids are
/// `shenbao_engine::model::PLATFORM_CHANNELS`, in its order (a test checks it).
pub const CHANNELS: &[(&str, &str)] = &[
    ("region", "属地（地市）"),
    ("central-enterprise", "中央企业"),
    ("out-of-province", "省外单位"),
    ("provincial-soe", "省属国有企业"),
];

/// What is wrong with `r`'s parent, if anything: a city's parent is the province,
/// a district's a city; a province has none. `parent` is the parent region as
/// known (stored or in the same import), `None` when there is no such region.
pub fn parent_problem(r: &Region, parent: Option<&Region>) -> Option<String> {
    let want = match r.kind {
        RegionKind::Province => return None,
        RegionKind::City => RegionKind::Province,
        RegionKind::District => RegionKind::City,
    };
    let (zh, en) = match want {
        RegionKind::Province => ("省", "the province"),
        _ => ("地市", "a city"),
    };
    match (&r.parent, parent) {
        (None, _) => Some(format!("须填写上级区域（{zh}） / needs its parent region ({en})")),
        (Some(p), None) => Some(format!("上级区域“{p}”不存在 / parent region {p:?} does not exist")),
        (Some(p), Some(found)) if found.kind != want => {
            Some(format!("上级区域“{p}”不是{zh} / parent region {p:?} is not {en}"))
        }
        _ => None,
    }
}

/// Whether `id` may be a channel's id (the platform's or one a round declares):
/// lower-case letters, digits and '-', starting with a letter, at most 40 characters.
pub fn valid_channel_id(id: &str) -> bool {
    id.len() <= 40
        && id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// City groups of Guangdong.
pub const CITY_GROUPS: &[(&str, &str)] = &[("prd", "珠三角"), ("east", "粤东"), ("west", "粤西"), ("north", "粤北")];

const CITIES: &[(&str, &str, &str)] = &[
    ("guangzhou", "广州市", "prd"),
    ("shenzhen", "深圳市", "prd"),
    ("zhuhai", "珠海市", "prd"),
    ("foshan", "佛山市", "prd"),
    ("huizhou", "惠州市", "prd"),
    ("dongguan", "东莞市", "prd"),
    ("zhongshan", "中山市", "prd"),
    ("jiangmen", "江门市", "prd"),
    ("zhaoqing", "肇庆市", "prd"),
    ("shantou", "汕头市", "east"),
    ("shanwei", "汕尾市", "east"),
    ("chaozhou", "潮州市", "east"),
    ("jieyang", "揭阳市", "east"),
    ("zhanjiang", "湛江市", "west"),
    ("maoming", "茂名市", "west"),
    ("yangjiang", "阳江市", "west"),
    ("shaoguan", "韶关市", "north"),
    ("heyuan", "河源市", "north"),
    ("meizhou", "梅州市", "north"),
    ("qingyuan", "清远市", "north"),
    ("yunfu", "云浮市", "north"),
];

const DISTRICTS: &[(&str, &str, &str)] = &[
    ("huizhou", "huicheng", "惠城区"),
    ("huizhou", "huiyang", "惠阳区"),
    ("huizhou", "boluo", "博罗县"),
    ("huizhou", "huidong", "惠东县"),
    ("huizhou", "longmen", "龙门县"),
    ("shenzhen", "futian", "福田区"),
    ("shenzhen", "luohu", "罗湖区"),
    ("shenzhen", "nanshan", "南山区"),
    ("shenzhen", "baoan", "宝安区"),
    ("shenzhen", "longgang", "龙岗区"),
    ("shenzhen", "longhua", "龙华区"),
    ("guangzhou", "tianhe", "天河区"),
    ("guangzhou", "huangpu", "黄埔区"),
    ("guangzhou", "panyu", "番禺区"),
    ("foshan", "shunde", "顺德区"),
    ("foshan", "nanhai", "南海区"),
    ("dongguan", "songshanhu", "松山湖"),
    ("shantou", "longhu", "龙湖区"),
    ("zhanjiang", "chikan", "赤坎区"),
    ("shaoguan", "wujiang", "武江区"),
];

/// Guangdong: the province, its 21 cities with their groups (Shenzhen separately
/// planned), and the districts the examples use. More districts are imported.
pub fn guangdong() -> Vec<Region> {
    let mut out = vec![Region {
        id: "guangdong".into(),
        name: "广东省".into(),
        kind: RegionKind::Province,
        parent: None,
        group: None,
        separately_planned: false,
    }];
    for (id, name, group) in CITIES {
        out.push(Region {
            id: id.to_string(),
            name: name.to_string(),
            kind: RegionKind::City,
            parent: Some("guangdong".into()),
            group: Some(group.to_string()),
            separately_planned: *id == "shenzhen",
        });
    }
    for (city, id, name) in DISTRICTS {
        out.push(Region {
            id: format!("{city}.{id}"),
            name: name.to_string(),
            kind: RegionKind::District,
            parent: Some(city.to_string()),
            group: None,
            separately_planned: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_one_cities_in_four_groups() {
        let r = guangdong();
        let cities: Vec<_> = r.iter().filter(|r| r.kind == RegionKind::City).collect();
        assert_eq!(cities.len(), 21);
        let count = |g: &str| cities.iter().filter(|c| c.group.as_deref() == Some(g)).count();
        assert_eq!((count("prd"), count("east"), count("west"), count("north")), (9, 4, 3, 5));
        assert!(cities.iter().find(|c| c.id == "shenzhen").unwrap().separately_planned);
        assert!(
            r.iter()
                .filter(|r| r.kind == RegionKind::District)
                .all(|d| cities.iter().any(|c| Some(&c.id) == d.parent.as_ref()))
        );
    }

    #[test]
    fn the_named_channels_are_the_engine_s() {
        let ids: Vec<&str> = CHANNELS.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, crate::engine::model::PLATFORM_CHANNELS);
    }
}
