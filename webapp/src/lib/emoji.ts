// The built-in emoji: Mattermost's short names for the ones people use most. Custom emoji and the
// full Unicode set can come later from the server; this list keeps the first load small.

const LIST: [string, string][] = [
  ['+1', '👍'], ['thumbsup', '👍'], ['-1', '👎'], ['thumbsdown', '👎'], ['smile', '😄'], ['smiley', '😃'],
  ['grinning', '😀'], ['laughing', '😆'], ['joy', '😂'], ['rofl', '🤣'], ['slightly_smiling_face', '🙂'],
  ['wink', '😉'], ['blush', '😊'], ['heart_eyes', '😍'], ['thinking', '🤔'], ['neutral_face', '😐'],
  ['expressionless', '😑'], ['unamused', '😒'], ['roll_eyes', '🙄'], ['grimacing', '😬'], ['relieved', '😌'],
  ['pensive', '😔'], ['sleepy', '😪'], ['sob', '😭'], ['cry', '😢'], ['scream', '😱'], ['angry', '😠'],
  ['rage', '😡'], ['sunglasses', '😎'], ['nerd_face', '🤓'], ['confused', '😕'], ['worried', '😟'],
  ['open_mouth', '😮'], ['astonished', '😲'], ['flushed', '😳'], ['sweat_smile', '😅'], ['upside_down_face', '🙃'],
  ['hugs', '🤗'], ['shushing_face', '🤫'], ['zipper_mouth_face', '🤐'], ['face_with_monocle', '🧐'],
  ['partying_face', '🥳'], ['exploding_head', '🤯'], ['skull', '💀'], ['ghost', '👻'], ['robot', '🤖'],
  ['wave', '👋'], ['clap', '👏'], ['raised_hands', '🙌'], ['pray', '🙏'], ['muscle', '💪'], ['ok_hand', '👌'],
  ['point_up', '☝️'], ['point_right', '👉'], ['v', '✌️'], ['crossed_fingers', '🤞'], ['handshake', '🤝'],
  ['eyes', '👀'], ['brain', '🧠'], ['heart', '❤️'], ['broken_heart', '💔'], ['sparkling_heart', '💖'],
  ['fire', '🔥'], ['star', '⭐'], ['sparkles', '✨'], ['zap', '⚡'], ['boom', '💥'], ['100', '💯'],
  ['tada', '🎉'], ['confetti_ball', '🎊'], ['balloon', '🎈'], ['gift', '🎁'], ['trophy', '🏆'], ['medal', '🏅'],
  ['rocket', '🚀'], ['white_check_mark', '✅'], ['heavy_check_mark', '✔️'], ['x', '❌'], ['warning', '⚠️'],
  ['no_entry', '⛔'], ['question', '❓'], ['exclamation', '❗'], ['bulb', '💡'], ['memo', '📝'], ['pushpin', '📌'],
  ['paperclip', '📎'], ['lock', '🔒'], ['unlock', '🔓'], ['key', '🔑'], ['bell', '🔔'], ['mag', '🔍'],
  ['calendar', '📅'], ['hourglass', '⌛'], ['alarm_clock', '⏰'], ['coffee', '☕'], ['pizza', '🍕'], ['beers', '🍻'],
  ['cake', '🍰'], ['sunny', '☀️'], ['cloud', '☁️'], ['umbrella', '☔'], ['snowflake', '❄️'], ['rainbow', '🌈'],
  ['earth_americas', '🌎'], ['house', '🏠'], ['office', '🏢'], ['computer', '💻'], ['keyboard', '⌨️'],
  ['email', '📧'], ['phone', '📱'], ['chart_with_upwards_trend', '📈'], ['chart_with_downwards_trend', '📉'],
  ['bug', '🐛'], ['wrench', '🔧'], ['hammer', '🔨'], ['gear', '⚙️'], ['link', '🔗'], ['books', '📚'],
  ['dog', '🐶'], ['cat', '🐱'], ['unicorn', '🦄'], ['see_no_evil', '🙈'], ['speech_balloon', '💬'],
  ['thought_balloon', '💭'], ['raising_hand', '🙋'], ['shrug', '🤷'], ['facepalm', '🤦'], ['ok', '🆗'],
  ['new', '🆕'], ['cool', '🆒'], ['red_circle', '🔴'], ['green_circle', '🟢'], ['large_blue_circle', '🔵'],
];

const BY_NAME = new Map(LIST);

/** The character for an emoji short name (`smile` → 😄), if it is one of the built-in ones. */
export function emojiChar(name: string): string | undefined {
  return BY_NAME.get(name);
}

/** Every built-in emoji name, in the picker's order. */
export const emojiNames: readonly string[] = LIST.map(([name]) => name);

/** The reactions offered first. */
export const quickReactions: readonly string[] = ['+1', 'white_check_mark', 'heart', 'joy', 'tada', 'eyes'];
