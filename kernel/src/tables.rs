//! Every redb table, in one place, with its key and value types.
//!
//! Values that evolve are JSON (serde) so a schema migration can rewrite them;
//! the schema version lives in [`META`] under [`SCHEMA_VERSION_KEY`].

use redb::TableDefinition;

/// Current schema version of the database layout.
pub const SCHEMA_VERSION: u32 = 1;
pub const SCHEMA_VERSION_KEY: &str = "schema_version";

/// Database metadata: `schema_version` → decimal text.
pub const META: TableDefinition<&str, &str> = TableDefinition::new("meta");

/// Component bytes by sha256 (hex). Written once, never changed.
pub const PLUGIN_BLOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("plugin_blobs");

/// Installed plugins: (program, version) → JSON [`crate::registry::PluginRecord`].
pub const PLUGINS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("plugins");
