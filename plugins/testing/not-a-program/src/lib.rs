//! A component that exports some other world entirely. Installing it must be
//! refused as "not a Shenbao program", listing what it does export.

wit_bindgen::generate!({
    inline: "
        package example:greeter@1.0.0;
        interface greet {
            hello: func(name: string) -> string;
        }
        world greeter {
            export greet;
        }
    ",
});

struct Greeter;

impl exports::example::greeter::greet::Guest for Greeter {
    fn hello(name: String) -> String {
        format!("你好, {name}")
    }
}

export!(Greeter);
