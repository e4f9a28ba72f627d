// masto.js (pinned in package.json), unmodified, through the flows a web client runs against Warden.
// Run by tests/clients/test_masto_js.py: `node flows.mjs FLOW` with WARDEN_URL and WARDEN_USERS (a JSON list
// of {id, username, token}, the first the acting account) in the environment. Exits 0 when every assertion
// held; otherwise prints the error (masto's HTTP errors carry the status) and exits 1.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRestAPIClient } from "masto";

const url = process.env.WARDEN_URL;
const users = JSON.parse(process.env.WARDEN_USERS);
const [alice, bob, carol] = users.map((u) => ({
  ...u,
  api: createRestAPIClient({ url, accessToken: u.token, timeout: 30000 }),
}));
const ids = (items) => items.map((item) => item.id);

const flows = {
  async media() {
    const png = readFileSync(process.env.WARDEN_PNG);
    const media = await alice.api.v2.media.create({
      file: new Blob([png], { type: "image/png" }),
      description: "A square from masto.js",
    });
    assert.equal(media.type, "image");
    assert.equal(media.description, "A square from masto.js");
    const updated = await alice.api.v1.media.$select(media.id).update({ description: "A blue square" });
    assert.equal(updated.description, "A blue square");
    const status = await alice.api.v1.statuses.create({ status: "Posted from masto.js #mastoflow", mediaIds: [media.id] });
    assert.deepEqual(ids(status.mediaAttachments), [media.id]);
    await bob.api.v1.accounts.$select(alice.id).follow();
    const home = await bob.api.v1.timelines.home.list({ limit: 5 });
    assert.equal(home[0].id, status.id);
    assert.equal(home[0].mediaAttachments[0].description, "A blue square");
    const file = await fetch(home[0].mediaAttachments[0].url);
    assert.equal(file.status, 200);
    assert.match(file.headers.get("content-type"), /^image\//);
    const onlyMedia = await bob.api.v1.accounts.$select(alice.id).statuses.list({ onlyMedia: true });
    assert.deepEqual(ids(onlyMedia), [status.id]);
  },

  async lists() {
    await alice.api.v1.accounts.$select(bob.id).follow();
    await alice.api.v1.accounts.$select(carol.id).follow();
    const list = await alice.api.v1.lists.create({ title: "Colleagues", repliesPolicy: "list" });
    assert.equal(list.title, "Colleagues");
    await alice.api.v1.lists.$select(list.id).accounts.create({ accountIds: [bob.id] });
    assert.deepEqual(ids(await alice.api.v1.lists.$select(list.id).accounts.list()), [bob.id]);
    assert.deepEqual(ids(await alice.api.v1.lists.list()), [list.id]);
    assert.deepEqual(ids(await alice.api.v1.accounts.$select(bob.id).lists.list()), [list.id]);
    const said = await bob.api.v1.statuses.create({ status: "Stand-up moved to ten" });
    await carol.api.v1.statuses.create({ status: "Not a colleague" });
    assert.deepEqual(ids(await alice.api.v1.timelines.list.$select(list.id).list()), [said.id]);
    const renamed = await alice.api.v1.lists.$select(list.id).update({ title: "Team" });
    assert.equal(renamed.title, "Team");
    await alice.api.v1.lists.$select(list.id).accounts.remove({ accountIds: [bob.id] });
    assert.deepEqual(await alice.api.v1.timelines.list.$select(list.id).list(), []);
    await alice.api.v1.lists.$select(list.id).remove();
    assert.deepEqual(await alice.api.v1.lists.list(), []);
  },

  async filters() {
    await alice.api.v1.accounts.$select(bob.id).follow();
    const filter = await alice.api.v2.filters.create({
      title: "Football", context: ["home", "public"], filterAction: "warn",
      keywordsAttributes: [{ keyword: "penalty", wholeWord: true }],
    });
    assert.deepEqual(filter.keywords.map((k) => k.keyword), ["penalty"]);
    const hide = await alice.api.v2.filters.create({
      title: "Elections", context: ["home"], filterAction: "hide",
      keywordsAttributes: [{ keyword: "ballot", wholeWord: false }],
    });
    await alice.api.v2.filters.$select(filter.id).keywords.create({ keyword: "offside", wholeWord: true });
    const keywords = await alice.api.v2.filters.$select(filter.id).keywords.list();
    assert.deepEqual(keywords.map((k) => k.keyword).sort(), ["offside", "penalty"]);
    const penalty = await bob.api.v1.statuses.create({ status: "That penalty was never a foul" });
    const ballot = await bob.api.v1.statuses.create({ status: "Ballots counted overnight" });
    const plain = await bob.api.v1.statuses.create({ status: "Sunny today" });
    const home = await alice.api.v1.timelines.home.list();
    const byId = Object.fromEntries(home.map((s) => [s.id, s]));
    assert.equal(byId[penalty.id].filtered[0].filter.id, filter.id);
    assert.deepEqual(byId[penalty.id].filtered[0].keywordMatches, ["penalty"]);
    assert.equal(byId[ballot.id], undefined, "a hide filter keeps the post out of the home timeline");
    assert.ok(!byId[plain.id].filtered?.length);
    assert.equal((await alice.api.v2.filters.list()).length, 2);
    await alice.api.v2.filters.$select(hide.id).remove();
    assert.ok(ids(await alice.api.v1.timelines.home.list()).includes(ballot.id));
    await alice.api.v2.filters.$select(filter.id).remove();
    assert.deepEqual(await alice.api.v2.filters.list(), []);
  },

  async bookmarks() {
    const first = await bob.api.v1.statuses.create({ status: "Bookmark me" });
    const second = await bob.api.v1.statuses.create({ status: "And me" });
    assert.equal((await alice.api.v1.statuses.$select(first.id).bookmark()).bookmarked, true);
    await alice.api.v1.statuses.$select(second.id).bookmark();
    assert.deepEqual(ids(await alice.api.v1.bookmarks.list()), [second.id, first.id]);
    assert.equal((await alice.api.v1.statuses.$select(first.id).fetch()).bookmarked, true);
    assert.equal((await bob.api.v1.statuses.$select(first.id).fetch()).bookmarked, false);
    assert.equal((await alice.api.v1.statuses.$select(first.id).unbookmark()).bookmarked, false);
    assert.deepEqual(ids(await alice.api.v1.bookmarks.list()), [second.id]);
  },

  async polls() {
    const status = await alice.api.v1.statuses.create({
      status: "Where shall we meet?", poll: { options: ["park", "cafe", "library"], expiresIn: 3600 },
    });
    const poll = status.poll;
    assert.deepEqual(poll.options.map((o) => o.title), ["park", "cafe", "library"]);
    const voted = await bob.api.v1.polls.$select(poll.id).votes.create({ choices: [1] });
    assert.equal(voted.voted, true);
    assert.deepEqual(voted.ownVotes, [1]);
    await carol.api.v1.polls.$select(poll.id).votes.create({ choices: [1] });
    const results = await alice.api.v1.polls.$select(poll.id).fetch();
    assert.deepEqual(results.options.map((o) => o.votesCount), [0, 2, 0]);
    assert.equal(results.votesCount, 2);
    assert.deepEqual((await bob.api.v1.statuses.$select(status.id).fetch()).poll.ownVotes, [1]);
  },

  async conversations() {
    const dm = await bob.api.v1.statuses.create({ status: `@${alice.username} lunch on Friday?`, visibility: "direct" });
    const [conversation, ...rest] = await alice.api.v1.conversations.list();
    assert.deepEqual(rest, []);
    assert.equal(conversation.unread, true);
    assert.equal(conversation.lastStatus.id, dm.id);
    assert.deepEqual(ids(conversation.accounts), [bob.id]);
    const reply = await alice.api.v1.statuses.create({
      status: `@${bob.username} yes`, visibility: "direct", inReplyToId: dm.id,
    });
    assert.equal((await alice.api.v1.conversations.$select(conversation.id).read()).unread, false);
    const [theirs] = await bob.api.v1.conversations.list();
    assert.equal(theirs.lastStatus.id, reply.id);
    assert.ok(!ids(await alice.api.v1.timelines.public.list()).includes(dm.id));
  },
};

const name = process.argv[2];
if (!flows[name]) {
  console.error(`unknown flow ${name}; one of ${Object.keys(flows).join(", ")}`);
  process.exit(2);
}
try {
  await flows[name]();
  console.log(`masto.js ${name}: ok`);
} catch (error) {
  console.error(`masto.js ${name} failed: ${error?.stack ?? error}`);
  if (error?.statusCode) console.error(`HTTP ${error.statusCode}: ${JSON.stringify(error.description ?? error.message)}`);
  process.exit(1);
}
