//! A component that exports `shenbao:program/plugin@2.0.0`, a WIT version this
//! kernel does not host. Installing it must be refused, naming both versions.

wit_bindgen::generate!({
    inline: "
        package shenbao:program@2.0.0;
        interface plugin {
            describe: func() -> string;
        }
        world program {
            export plugin;
        }
    ",
});

struct Future;

impl exports::shenbao::program::plugin::Guest for Future {
    fn describe() -> String {
        "from the future".to_string()
    }
}

export!(Future);
