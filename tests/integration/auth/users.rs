//! The users the auth tests act as. Names carry the test's tag and this
//! process's id, so tests running side by side (and runs reusing a kept
//! stack) never see each other's records in a user's lists.

use harness::prelude::*;

/// A user of the default role (`user`) named for this test and process.
pub fn named(who: &str, tag: &str) -> User {
    User::named(format!("{who}-{tag}-{}", std::process::id()))
}

/// The user whose records the test makes, and the one who must not reach them.
pub fn alice_and_bob<'t>(ctx: &'t TestContext, tag: &str) -> (harness::Client<'t>, harness::Client<'t>) {
    (ctx.as_user(named("alice", tag)), ctx.as_user(named("bob", tag)))
}

/// The `id` of a created record.
pub fn id_of(value: &Value) -> Result<String> {
    Ok(value["id"]
        .as_str()
        .with_context(|| format!("no id in {value}"))?
        .to_owned())
}

/// The ids in a list answer's `data`.
pub fn ids(list: &Value) -> Result<Vec<String>> {
    let data = list["data"]
        .as_array()
        .with_context(|| format!("no `data` list in {list}"))?;
    Ok(data
        .iter()
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect())
}
