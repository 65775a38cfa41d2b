//! Units already selected as eco-partners (batches 1–3): they need not and cannot
//! apply again (2024 guide 一; 2022 notice 一). The Huizhou part of the list, as seed
//! 000 ends with it: city, unit, domain(s), batch.

pub struct Selected {
    pub city: &'static str,
    pub name: &'static str,
    pub domains: &'static str,
    pub batch: u8,
}

const fn s(name: &'static str, domains: &'static str, batch: u8) -> Selected {
    Selected { city: "惠州市", name, domains, batch }
}

pub const SELECTED: &[Selected] = &[
    s("广东省威汇智能科技有限公司", "智能制造装备领域、智能制造系统解决方案领域", 1),
    s("惠州华阳通用电子有限公司", "智能制造装备领域", 1),
    s("广东利元亨智能装备股份有限公司", "智能制造装备领域", 1),
    s("惠州市赢合科技有限公司", "智能制造装备领域", 1),
    s("惠州市德赛自动化技术有限公司", "智能制造装备领域", 1),
    s("广东九联科技股份有限公司", "智能制造装备领域", 1),
    s("惠州市飞讯软件服务有限公司", "关键软件领域", 1),
    s("伟乐视讯科技股份有限公司", "关键软件领域", 1),
    s("惠州视维新技术有限公司", "关键软件领域", 1),
    s("惠州市广工大物联网协同创新研究院有限公司", "智能制造系统解决方案领域", 1),
    s("惠州中科先进制造研究中心有限公司", "智能制造系统解决方案领域", 1),
    s("广东绿建联节能服务有限公司", "智能制造系统解决方案领域", 1),
    s("TCL通力电子（惠州）有限公司", "智能制造试点示范领域", 1),
    s("惠州市德赛西威汽车电子股份有限公司", "智能制造试点示范领域", 1),
    s("TCL王牌电器（惠州）有限公司", "智能制造试点示范领域", 1),
    s("惠州市华星光电技术有限公司", "智能制造试点示范领域", 1),
    s("TCL科技集团股份有限公司", "智能制造试点示范领域", 1),
    s("基准精密工业（惠州）有限公司", "智能制造试点示范领域", 1),
    s("胜宏科技（惠州）股份有限公司", "智能制造试点示范领域", 1),
    s("惠州市华辉信达电子有限公司", "智能制造试点示范领域", 1),
    s("TCL海外电子（惠州）有限公司", "智能制造试点示范领域", 1),
    s("惠州TCL移动通信有限公司", "智能制造试点示范领域", 2),
    s("惠州亿纬锂能股份有限公司", "智能制造试点示范领域", 2),
    s("广东立冠科技有限公司", "智能制造试点示范领域", 2),
    s("惠州市华阳多媒体电子有限公司", "智能制造系统解决方案领域", 2),
    s("惠州市华阳智能技术有限公司", "智能制造装备领域", 3),
    s("惠州拓邦电气技术有限公司", "智能制造装备领域", 3),
    s("欣旺达惠州动力新能源有限公司", "智能制造试点示范领域", 3),
    s("惠州市博实结科技有限公司", "智能制造试点示范领域", 3),
    s("广东力王高新科技股份有限公司", "智能制造试点示范领域", 3),
    s("华润三九现代中药制药有限公司", "智能制造试点示范领域", 3),
    s("华显光电技术（惠州）有限公司", "智能制造试点示范领域", 3),
    s("惠州雷曼光电科技有限公司", "智能制造试点示范领域", 3),
    s("惠州市华阳精机有限公司", "智能制造试点示范领域", 3),
];

/// The listed unit whose name matches `name` (compared as project keys: spacing,
/// full-width brackets and letter case do not matter).
pub fn find(name: &str) -> Option<&'static Selected> {
    let key = shenbao_sdk::project_key(name);
    SELECTED.iter().find(|s| shenbao_sdk::project_key(s.name) == key)
}

#[cfg(test)]
mod tests {
    #[test]
    fn thirty_four_units_in_three_batches() {
        assert_eq!(super::SELECTED.len(), 34);
        let per_batch = |b| super::SELECTED.iter().filter(|s| s.batch == b).count();
        assert_eq!((per_batch(1), per_batch(2), per_batch(3)), (21, 4, 9));
        assert!(super::find("TCL通力电子(惠州)有限公司").is_some());
        assert!(super::find("示例智能装备有限公司").is_none());
    }
}
