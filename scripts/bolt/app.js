// Bolt for JavaScript with the HTTP receiver: one /looker command and app_mention, both only ack.
// botId/botUserId and tokenVerificationEnabled:false keep it from calling Slack (auth.test).
const { App } = require('@slack/bolt');

const app = new App({
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  token: 'xoxb-bench',
  tokenVerificationEnabled: false,
  botId: 'B0000000BOT',
  botUserId: 'U0000000BOT',
});
app.command('/looker', async ({ ack }) => { await ack(); });
app.event('app_mention', async () => {});

(async () => {
  await app.start(Number(process.env.PORT));
  console.log(`bolt listening on ${process.env.PORT}`);
})();
