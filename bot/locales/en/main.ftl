## Greeting and main menu

start-greeting =
    👋 Hello, <b>{ $name }</b>!

    This is <b>Giftwallet</b>: gift certificates add up to one balance, orders are paid from it, and every purchase earns cashback.

    Choose what to do:
menu-title = Main menu. Choose what to do:
menu-balance = 💰 Balance
menu-buy = 🎁 Buy certificate
menu-orders = 📦 Orders
menu-cashback = 💸 Cashback
menu-cards = 💳 Cards
menu-security = 🔐 Security
menu-support = 💬 Support
menu-language = 🌐 Language
menu-back = ⬅️ Main menu
coming-soon = This section is coming soon.

## Balance

balance-text =
    <b>💰 Your balance</b>

    Certificates: <b>{ $balance }</b>
    Cashback available: <b>{ $available }</b>
    Cashback pending: { $pending }
balance-refresh = 🔄 Refresh
inline-balance-title = Balance: { $balance }
inline-balance-description = Cashback available { $available }, pending { $pending }

## Help, language, cancel, fallbacks

help-text =
    <b>Giftwallet</b> keeps your gift certificates, orders and cashback in one place.

    /start — main menu
    /balance — your balance and cashback
    /language — choose the language
    /cancel — stop the current step
    /help — this help

    Money is never charged without your confirmation.
language-choose = Choose the language:
language-set = Language set: English.
cancel-done = Cancelled. Nothing was changed.
cancel-nothing = There is nothing to cancel.
unknown-text = I didn't understand that. Use the buttons below or /help.
unknown-command = Unknown command. See /help for what I can do.
text-too-long = That message is too long. Please send something shorter.
throttled = ⏳ Too many requests at once. Please wait a few seconds, then try again.

## Commands (setMyCommands)

cmd-start = Main menu
cmd-balance = Balance and cashback
cmd-language = Change the language
cmd-cancel = Stop the current step
cmd-help = Help

## Errors

error-internal = ⚠️ Something went wrong on our side. Nothing was charged. Please try again in a minute.
error-domain = This can't be done right now.
error-stale-action = This button is no longer valid. Open /start for a fresh menu.
error-insufficient-funds = Not enough money: { $needed } needed, { $available } available.
error-idempotency-conflict = This operation was already made with different details.

## Amount input

amount-empty = Please send an amount, for example 25 or 12.50.
amount-too-long = That number is too long. Send an amount such as 25 or 12.50.
amount-negative = The amount must be positive.
amount-format = Send the amount as digits, for example 25 or 12.50.
amount-precision = Too many digits after the decimal point.
amount-zero = The amount must be greater than zero.

## Language names are written in their own language, whatever the interface language

language-button-ru = 🇷🇺 Русский
language-button-en = 🇬🇧 English

## When an update could not be handled after several attempts
payment-received-later = ✅ Your payment was received. It is being credited and you will get a message when it is on your balance; there is no need to pay again.
ops-payment-parked = ⚠️ A payment could not be credited automatically. Update { $update_id }, user { $user_id }, { $amount }, charge { $charge_id }. It waits in the inbox: check it and run <code>python -m bot inbox --retry { $update_id }</code>.

## Payment password and security questions
error-wrong-password = ❌ Wrong payment password. Tries left before a lock: { $attempts_left }.
error-locked = 🔒 Too many failed tries. Spending and password recovery are locked until { $until }. If you have forgotten your password and answers, write to /support.
error-no-password = You have no payment password yet. Set one with /password.
error-password-already-set = You already have a payment password. To change it, open 🔐 Security.
password-weak-too-short = The password is too short: use { $min } to { $max } characters.
password-weak-too-long = The password is too long: use { $min } to { $max } characters.
password-weak-one-char = A password of one repeated character is too easy to guess. Try another.
password-weak-sequence = A run like 123456 or abcdef is too easy to guess. Try another.
password-weak-common = This password is on every list of common passwords. Try another.
password-weak-name = Your own name is too easy to guess. Try another password.
error-answer-invalid = An answer must be 1 to { $max } characters. Please try again.
error-wrong-answers = ❌ The answers do not match what you set. Tries left before a lock: { $attempts_left }.
error-operation-gone = This request is no longer valid (done, cancelled or expired). Nothing was charged.
question-first-pet = What was the name of your first pet?
question-birth-city = In which city were you born?
question-first-school = What was the number or name of your first school?
question-first-teacher = What was the surname of your first teacher?
question-favorite-book = What is your favourite childhood book?
question-childhood-friend = What is the name of your childhood best friend?
question-first-car = What was the make of your first car?
question-childhood-street = On which street did you live as a child?
question-parents-met = In which city did your parents meet?
cmd-password = Payment password
cmd-recover = Recover the payment password
cmd-privacy = What we store about you
button-cancel = ✖️ Cancel
security-menu =
    <b>🔐 Security</b>

    Your payment password is set. It confirms every payment from your balance.
security-change = 🔑 Change password
security-forgot = ❓ Forgot password
password-setup-intro =
    <b>🔐 Payment password</b>

    It confirms every payment from your balance. This is <b>not</b> your Telegram password: never enter that one here.
    Type the new payment password. The message disappears from the chat as soon as the bot has read it.
password-rules = Rules: { $min } to { $max } characters; not one repeated character, not a run like 123456, not your name.
password-repeat = Type the same password once more.
password-mismatch = The two entries differ. Let's start again: type the new password.
questions-pick = Choose security question { $number } of { $total }. They let you recover the password if you forget it.
answer-prompt =
    <b>{ $question }</b>

    Type your answer. Case and extra spaces do not matter.
password-set-done = ✅ Your payment password and three security questions are set. Nothing secret is shown or kept in this chat.
password-current = Type your current payment password.
password-new = Type the new payment password.
password-changed = ✅ The payment password is changed.
recover-question =
    Question { $number } of { $total }:
    <b>{ $question }</b>
recover-passed = ✅ The answers match. Type a new payment password.
hint-password = I am waiting for the password as a plain text message, or press Cancel.
hint-password-repeat = Type the same password once more as a text message, or press Cancel.
hint-password-current = Type your current payment password as a text message, or press Cancel.
hint-question-buttons = Choose a question with the buttons above, or press Cancel.
hint-answer = Type the answer as a text message, or press Cancel.
privacy-text =
    <b>What Giftwallet stores</b>

    • Your Telegram id, first name and language, to answer you.
    • Your balances and every movement of money, as the law requires for payments.
    • Your payment password and security answers only as slow salted hashes (argon2id): nobody can read them back, not even us. The messages you type them in are deleted from the chat at once.
    • Saved cards only as the brand, the first 6 and last 4 digits and the expiry. Never the full number, never a CVV.

    We never ask for your Telegram password or a card's CVV. To have your data removed, write to /support.

## Saved cards
cmd-cards = Saved cards
cards-empty =
    <b>💳 Saved cards</b>

    No cards yet. A saved card is where cashback can be withdrawn. Only its brand, first 6 and last 4 digits and expiry are kept; never the full number, never a CVV.
cards-list =
    <b>💳 Saved cards</b> ({ $count } of { $limit })

    { $cards }

    Press a card to delete it.
card-add-button = ➕ Add a card
card-delete-button = 🗑 { $card }
card-number-prompt = Send the card number (16 digits; spaces and dashes are fine). The message is deleted as soon as it is read. Never send the CVV: we do not need it.
card-expiry-prompt = { $card }: now send the expiry date as MM/YY, e.g. 09/28.
card-added = ✅ Card saved: { $card }
card-delete-confirm = Delete { $card }?
card-delete-yes = 🗑 Delete
card-delete-no = ↩️ Keep it
card-invalid-format = That does not look like a card number: send 12 to 19 digits.
card-invalid-checksum = This card number has a typo (its check digit does not match). Please check it and send it again.
card-invalid-brand = Only Visa, Mastercard, Mir, UnionPay and American Express cards can be saved.
card-invalid-expiry-format = Send the expiry date as MM/YY, e.g. 09/28.
card-invalid-expired = This card has expired. Send the expiry date of a valid card.
error-card-limit = You can keep at most { $limit } cards. Delete one first.
error-card-duplicate = This card is saved already.
hint-card-number = Send the card number as a text message, or press Cancel.
hint-card-expiry = Send the expiry date as MM/YY, or press Cancel.

## Support
cmd-support = Write to support
support-unavailable = Support is not available in this bot yet. Please try again later.
support-opened =
    <b>💬 Support, ticket #{ $ticket }</b>

    Write your question in one or more messages; an operator will answer here. Never send passwords or card numbers. /close ends the ticket.
support-sent = ✉️ Sent to support. An operator will answer in this chat.
support-hint = Support takes text messages for now. /close ends the ticket.
support-nothing-open = You have no open support ticket.
support-closed = ✅ Ticket #{ $ticket } is closed. Write /support whenever you need us again.
support-relayed = 🎫 #{ $ticket } · user <code>{ $user_id }</code> ({ $name }):
    { $text }
support-closed-ops = 🎫 #{ $ticket } was closed by the user.
support-reply = 💬 Support (ticket #{ $ticket }):
    { $text }
support-delivered = ✅ Delivered to ticket #{ $ticket }.
support-reply-unknown = This is not a reply to an open ticket's message: nothing was sent.
admin-reset-usage = Usage: /admin_reset_password USER_ID
admin-reset-done = ✅ The payment password and security questions of user { $user_id } are cleared; they were told to set new ones.
admin-reset-nothing = User { $user_id } had no payment password. The attempt is recorded.
password-reset-notice = 🔐 Support has reset your payment password and security questions. Set new ones with /password.

## Confirming a payment
confirm-prompt = 🔐 Type your payment password to confirm. The message disappears as soon as it is read.
confirm-needs-password = To pay from your balance you need a payment password first.
confirm-done = ✅ Confirmed.
