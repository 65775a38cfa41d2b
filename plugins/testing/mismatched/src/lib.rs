//! A component that exports `shenbao:program/plugin@0.1.0` — the right name and
//! version — with the wrong function types. Installing it must be refused as a
//! world mismatch, not crash at the first call.

wit_bindgen::generate!({
    inline: "
        package shenbao:program@0.1.0;
        interface plugin {
            describe: func() -> string;
            check-application: func(request: string) -> string;
            check-round: func(round: string) -> string;
        }
        world program {
            export plugin;
        }
    ",
});

struct Mismatched;

impl exports::shenbao::program::plugin::Guest for Mismatched {
    fn describe() -> String {
        "{}".into()
    }
    fn check_application(_: String) -> String {
        "[]".into()
    }
    fn check_round(_: String) -> String {
        "[]".into()
    }
}

export!(Mismatched);
