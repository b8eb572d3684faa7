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

## Balance

balance-text =
    <b>💰 Your balance</b>

    Certificates: <b>{ $balance }</b> ({ $count ->
        [one] { $count } certificate
       *[other] { $count } certificates
    })
    Cashback available: <b>{ $available }</b>
balance-cashback-on-hold = Cashback on hold: { $amount } — available from { $date }
balance-cashback-pending = Cashback pending: { $amount } — until you confirm receipt
balance-refresh = 🔄 Refresh
inline-balance-title = Balance: { $balance } in { $count ->
        [one] { $count } certificate
       *[other] { $count } certificates
    }
inline-balance-description = Cashback: available { $available }, on hold { $on_hold }, pending { $pending }

## Help, language, cancel, fallbacks

help-intro = <b>Giftwallet</b> keeps your gift certificates, orders and cashback in one place.
help-group-wallet = Wallet
help-group-shop = Shop
help-group-cashback = Cashback
help-group-security = Security
help-group-support = Support
help-group-info = About the bot
help-outro = Money is never charged without your payment password.
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
error-after-money =
    ⚠️ The answer could not be shown, but this was done:
    { $steps }
    Your /history has every movement of your money.
step-order-paid = order #{ $id } is paid from your balance
step-order-refunded = order #{ $id } is refunded to your balance
step-withdrawal-requested = a cashback withdrawal was requested
step-cashback-moved = cashback was moved to your balance
step-gift-made = a gift code was made
step-gift-claimed = a gift was credited to your balance
step-certificate-credited = a certificate was credited to your balance
step-other = your balance changed
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
error-locked = 🔒 Too many failed tries. Spending and password recovery are locked until { $until } ({ $left }). If you have forgotten your password and answers, write to /support.
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
error-confirmation-refused = This confirmation is no longer valid. Nothing was charged: start again.
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
password-rules = Rules: { $min } to { $max } characters; not one repeated character, not a run like 123456, not your name, and not starting with / (that is a command).
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
support-closed-ops = 🎫 #{ $ticket } was closed by the user.
support-reply = 💬 Support (ticket #{ $ticket }):
support-too-long = Not sent: your message is { $length } characters, and support takes up to { $max } in one message. Please send it in two parts.
support-delivered = ✅ Sent to ticket #{ $ticket }. If the user has blocked the bot, this chat will hear of it.
support-reply-unknown = This is not a reply to an open ticket's message: nothing was sent.
admin-reset-usage = Usage: /admin_reset_password USER_ID
admin-reset-done = ✅ The payment password and security questions of user { $user_id } are cleared; they were told to set new ones.
admin-reset-nothing = User { $user_id } had no payment password. The attempt is recorded.
password-reset-notice = 🔐 Support has reset your payment password and security questions. Set new ones with /password.

## Confirming a payment
confirm-prompt = 🔐 Type your payment password to confirm. The message disappears as soon as it is read.
confirm-needs-password = To pay from your balance you need a payment password first.
confirm-done = ✅ Confirmed.

## Certificates

cmd-buy = Buy a gift certificate
cmd-paysupport = Help with a payment
cmd-terms = Terms of sale
price-stars = ⭐ { $stars }
buy-intro =
    <b>🎁 Gift certificates</b>

    Your balance: <b>{ $balance }</b> in { $count ->
        [one] { $count } certificate
       *[other] { $count } certificates
    }.
    Certificates add up to one balance that pays for orders.

    Pick a nominal or type another amount from { $min } to { $max }. You pay in Telegram Stars ({ $rate } per { $unit }) and get { $cashback }% cashback at once.
buy-custom-button = ✏️ Another amount
certificates-button = 🗂 My certificates
gift-from-balance-button = 🎀 Gift from my balance
buy-for-self = 👤 For myself
buy-as-gift = 🎁 As a gift
buy-purpose =
    Certificate <b>{ $amount }</b> for <b>{ $price }</b>.
    Cashback at once: { $cashback }.

    Who is it for?
buy-custom-prompt = Type the amount, from { $min } to { $max }, for example 25 or 12.50.
gift-note-prompt = A gift of <b>{ $amount }</b>. Type a note for the recipient (up to { $max } characters), or skip it.
gift-note-skip = Skip the note
invoice-title = Gift certificate { $amount }
invoice-gift-title = Gift code for { $amount }
invoice-description = Adds { $amount } to your Giftwallet balance, with { $cashback } cashback at once.
invoice-description-gift = A gift code worth { $amount } to share with anyone; { $cashback } cashback for you at once.
amount-below-min = The smallest certificate is { $min }.
amount-above-max = The largest certificate is { $max }.
error-balance-cap = Your certificate balance can hold at most { $cap }: there is room for { $room } more.
checkout-unknown = This invoice is not yours or no longer valid. Start again with /buy.
checkout-paid = This invoice has been paid already.
checkout-changed = This invoice does not match its purchase. Start again with /buy.
payment-credited =
    ✅ <b>{ $amount }</b> added to your balance.
    Cashback: +{ $cashback }, available at once.
    Balance now: <b>{ $balance }</b>.
payment-unmatched = We received your payment but could not match it to a purchase. Support has been told and will sort it out; you can also write to /paysupport.
payment-returned = ↩️ You paid for the same certificate twice. The second payment, { $currency ->
        [XTR] ⭐ { $stars }
       *[other] { $stars } { $currency }
    }, has gone back to you; nothing else changed.
payment-return-pending = You paid for the same certificate twice. We could not send the second payment ({ $currency ->
        [XTR] ⭐ { $stars }
       *[other] { $stars } { $currency }
    }) back at once: our operators have been told and will return it.
refund-done = ↩️ A refund of { $amount } was made; that amount and its cashback were taken back from your balance.
refund-refused-unknown = no such charge
refund-refused-spent = { $spent } of this certificate has been spent
refund-refused-gift-closed = the gift code was claimed or has come back
refund-refused-cashback-spent = its cashback ({ $cashback }) has been spent
certificates-empty = You have no certificates yet. Buy one with /buy.
certificates-list =
    <b>🗂 My certificates</b>: { $live } with money left, <b>{ $balance }</b> in all.

    { $lines }

    Page { $page } of { $pages }. Orders spend the oldest certificates first.
certificate-line-bought = • { $remaining } of { $nominal } — bought { $date }
certificate-line-gift = • { $remaining } of { $nominal } — a gift, { $date }
certificate-line-refund = • { $remaining } of { $nominal } — returned { $date }
paysupport-opened = Payment support, request #{ $ticket }. Describe the problem: which payment, and what went wrong. Operators see your recent payments. /close ends the conversation.
terms-text =
    <b>Terms of sale</b>

    • A gift certificate is a prepaid balance in this bot. It pays for orders here and is not exchanged for money.
    • Certificates are paid in Telegram Stars. Each purchase earns { $cashback }% cashback, available at once.
    • A balance holds up to { $max }.
    • An unclaimed gift code comes back to the giver after { $days } days.
    • An unspent certificate can be refunded: write to /paysupport.
    • The payment password is yours alone: it is never your Telegram password, and we never ask for it in chat.

## Gifts

gift-card = 🎁 <b>A gift certificate for { $amount }</b> in Giftwallet. Tap the button to claim it.
gift-card-note = 💌 { $note }
gift-ready =
    🎁 <b>Your gift code for { $amount } is ready.</b>

    Send this link to the person, or tap Share to post the gift card in a chat:
    <a href="{ $link }">{ $link }</a>

    If no one claims it by { $expires }, the money comes back to your balance.
gift-cashback = Cashback: +{ $cashback }, available at once.
gift-share = 📤 Share the gift
gift-open-link = 🔗 Open the link
gift-copy-link = 📋 Copy the link
gift-claim-button = 🎁 Claim the gift
gift-inline-title = Gift certificate { $amount }
gift-inline-description = Send the gift card into this chat
gift-claimed =
    🎉 A gift from { $giver }: <b>{ $amount }</b> is yours, on your balance now.
    Balance now: <b>{ $balance }</b>.
gift-code-invalid = This gift link is not valid. Check it with the sender. { $attempts_left ->
        [one] One more wrong code and claiming pauses for an hour.
       *[other] { $attempts_left } tries left this hour.
    }
gift-code-locked = Too many wrong gift codes. Try again after { $until } ({ $left }).
gift-own-code = This is your own gift: send the link to the person you are giving it to.
gift-unavailable-own-claimed = Your gift was claimed by { $name } on { $date }.
gift-unavailable-own-expired = Nobody claimed your gift in time: it went back to your balance on { $date }.
gift-unavailable-claimed = This gift has already been claimed.
gift-unavailable-expired = This gift expired and went back to its giver.
gift-unavailable-refunded = This gift was refunded to its giver.
gift-note-empty = The note is empty: type some text, or skip it.
gift-note-too-long = The note is { $length } characters; the limit is { $max }.
gift-from-balance-prompt =
    <b>🎀 A gift from your balance</b>
    Balance: <b>{ $balance }</b>.

    Type the amount to give, from { $min } to { $max }. You will confirm it with your payment password.
gift-from-balance-confirm = Giving { $amount } from your balance as a gift code.
hint-gift-amount = Type the amount to give as digits, for example 25 or 12.50, or tap Cancel.

## Operators: payments

ops-payment-unmatched = ⚠️ A payment matched no purchase: user { $user_id }, charge { $charge_id }. Nothing was credited; refund it or credit it by hand.
ops-payment-return-failed = ⚠️ A second payment of one purchase could not be returned: user { $user_id }, charge { $charge_id }, { $stars } { $currency }. Telegram said: { $error }. Return it by hand.
ops-refund-unreversed = ⚠️ Telegram refunded charge { $charge_id } of user { $user_id }, but it could not be taken back: { $reason }.
ops-paysupport =
    💳 Payment support #{ $ticket } from { $name } (id { $user_id }).
    Recent charges:
    { $charges }
    Reply to this message to answer.
ops-charge-line = • { $charge_id }: { $amount } for { $price }, { $status ->
        [paid] paid
        [refunded] refunded
       *[other] not paid
    }, { $date }
ops-no-charges = (none)
ops-reconcile-report =
    ⚠️ Stars reconciliation found differences:
    { $lines }
ops-discrepancy-uncredited = • charge { $charge_id } (user { $user_id }, ⭐ { $stars }) is not credited in the ledger
ops-discrepancy-unreversed = • refund of { $charge_id } (user { $user_id }, ⭐ { $stars }) is not reversed in the ledger
ops-discrepancy-unknown-to-telegram = • credit { $charge_id } (user { $user_id }, ⭐ { $stars }) is not in Telegram's statement
ops-discrepancy-unreturned = • second payment { $charge_id } (user { $user_id }, ⭐ { $stars }) is not returned yet
ops-discrepancy-amount = • charge { $charge_id } (user { $user_id }): Telegram's amount differs from the ledger's by ⭐ { $stars }
ops-discrepancy-balance = • Telegram's Stars balance differs from the books by ⭐ { $stars }
admin-refund-usage = Usage: /admin_refund CHARGE_ID
admin-refund-refused = Not refunded: charge { $charge_id }: { $reason }.
admin-refund-telegram = Telegram refused to refund { $charge_id }: { $error }
admin-refund-unreversed = Telegram refunded { $charge_id }, but it could not be taken back: { $reason }.
admin-refund-done = Refunded { $charge_id }: { $amount } taken back from user { $user_id }.
admin-refund-already = Charge { $charge_id } was refunded already, on { $date }: { $amount } of user { $user_id }. Nothing moved now.
admin-reconcile-done = Reconciliation done: { $count ->
        [0] no differences.
        [one] 1 difference, posted to the operators' chat.
       *[other] { $count } differences, posted to the operators' chat.
    }
admin-stars-books =
    ⭐ Stars account
    Collected from buyers: { $collected }
    Refunded to buyers: { $refunded }
    Affiliate commissions: { $commissions }
    Income: { $income }
    { $transfers }
    Balance by the books: { $expected }
    Telegram's balance: { $balance }
admin-stars-transfer = { $kind ->
        [fragment] Withdrawn to Fragment
        [telegram_ads] Telegram Ads
        [telegram_api] Paid broadcasts
        [affiliate_program] Earned as an affiliate
       *[other] Other movements
    }: { $amount }
admin-stars-no-transfers = No withdrawals or other movements.
admin-stars-balance-moving = not compared: it changed while the statement was read

## Orders

order-refused-no-title = An order needs a title.
order-refused-no-amount = An order needs an amount above zero.
order-refused-quantity = The quantity must be from 1 to 10.
order-refused-unknown-user = That user has not started the bot yet.
order-refused-not-found = Order #{ $order } was not found.
order-refused-not-payable = Order #{ $order } is not waiting for payment any more.
order-refused-illegal = Order #{ $order } is now: { $current }. It cannot become “{ $status }”.
order-refused-refund-amount = A refund for order #{ $order } must be above zero and at most { $most }.
order-button = #{ $id } { $title }
orders-back = 📦 My orders
order-top-up-nominal = 🎁 Buy a { $nominal } certificate
order-back = ⬅️ Back to the order
order-card =
    <b>📦 Order #{ $id }</b>: { $title }
    Amount: <b>{ $amount }</b>
    Status: { $status }
order-card-cashback = Cashback for the goods: { $cashback }, { $state }
order-card-tracking = Tracking: { $tracking }
order-card-refunded = Refunded to your balance: { $amount }
order-card-balance = Your balance: { $balance }; after payment: { $after }
order-card-short = Your balance: { $balance }; { $gap } short of this order. Nothing was charged.
order-card-history =
    History:
    { $history }
order-history-line = • { $date } — { $status }
orders-empty = You have no orders yet.
orders-list =
    <b>📦 My orders</b>

    { $lines }

    Page { $page } of { $pages }.
orders-line = #{ $id } { $title } — { $amount }, { $status }, { $date }
order-short = Order #{ $id }: your balance ({ $balance }) is { $gap } short. Nothing was charged.
order-short-suggest = A { $nominal } certificate covers it; once it is paid, the order is back here with its Pay button.
order-pay-confirm = Paying order #{ $id } from your balance.
order-paid = ✅ Order #{ $id } is paid from your balance. Balance now: <b>{ $balance }</b>.
order-notice = 📦 Order #{ $id }: { $status }.
order-notice-auto-completed = It completed by itself: the protection period after delivery has ended. Thank you for your order!
order-billed = 🧾 You have a new bill from the shop.
order-action-pay = 💳 Pay
order-action-cancel = ✖️ Cancel the order
order-action-confirm = ✅ I received it
order-action-dispute = ⚠️ Open a dispute
order-status-awaiting-payment = awaiting payment
order-status-paid = paid
order-status-shipped = shipped
order-status-delivered = delivered
order-status-completed = completed
order-status-cancelled = cancelled, money back on the balance
order-status-disputed = in dispute
order-status-dispute-won = dispute won, money back on the balance
order-status-dispute-lost = dispute closed without a refund
cmd-orders = My orders
ops-order = 👤 Buyer: { $name } (id { $user_id })
ops-order-ship = 🚚 Shipped
ops-order-deliver = 📬 Delivered
ops-order-won = ✅ Dispute won (refund)
ops-order-lost = ❌ Dispute lost
admin-order-usage = Usage: /admin_order USER_ID AMOUNT TITLE
admin-order-done = Order #{ $id } created for user { $user_id }: the bill is on its way to them.
admin-order-moved = Order #{ $id } is now { $status }.
admin-ship-usage = Usage: /admin_ship ORDER_ID [TRACKING]
admin-deliver-usage = Usage: /admin_deliver ORDER_ID
admin-dispute-usage = Usage: /admin_dispute ORDER_ID won [AMOUNT] | lost
order-refused-sold-out = Sorry, there is not enough of it in stock.
order-refused-no-product = That product is no longer in the shop.
menu-shop = 🛍 Shop
cmd-shop = The shop
shop-home = <b>🛍 Shop</b>
    Pick a category. Orders are paid from your certificate balance, and the goods earn cashback.
shop-empty = The shop has no products yet.
shop-categories = ⬅️ Categories
shop-category = <b>{ $title }</b> — page { $page } of { $pages }
shop-product-button = { $title } — { $price }
shop-product-button-sold-out = { $title } — sold out
shop-product =
    <b>{ $title }</b>
    { $description }

    Price: <b>{ $price }</b> · cashback { $cashback }%
    In stock: { $stock }

    Quantity: { $quantity } · total <b>{ $total }</b>
shop-buy = 🛒 Order
shop-back-to-list = ⬅️ Back to the list
history-kind-certificate-purchase = certificate bought
history-kind-gift-purchase = gift code bought
history-kind-certificate-refund = certificate refunded
history-kind-gift-from-balance = gift given from the balance
history-kind-gift-claim = gift received
history-kind-gift-returned = unclaimed gift returned
history-kind-order-payment = order paid
history-kind-order-refund = order refund
history-kind-order-cashback-pending = cashback on goods (pending)
history-kind-order-cashback-voided = cashback voided
history-kind-order-cashback-released = cashback released
history-kind-other = other operation
history-account-balance = balance
history-account-cashback-pending = cashback pending
history-account-cashback-available = cashback
history-line = { $date } · { $what } · { $account } <b>{ $amount }</b> → { $after }
history-title =
    <b>🧾 History</b>, newest first

    { $lines }
history-empty = No movements yet.
history-newest = ⏮ Newest
history-older = Older ▶️
history-export = 📄 Export CSV
history-export-caption = Your history: { $count } movements. Amounts per account add up to its balance.
cmd-history = Money history


## Cashback

cmd-cashback = Cashback: statuses, withdraw, move to balance
cashback-title =
    <b>💸 Cashback</b>
    Available: <b>{ $available }</b> — withdraw to a card (from { $minimum }) or move to the balance
    On hold: { $on_hold } — orders received, waiting out the hold
    Pending: { $pending } — until you confirm receipt of the goods
cashback-next = ⏳ Next to become available: <b>{ $amount }</b> on { $date }
cashback-accruals =
    Accruals, newest first (page { $page } of { $pages }):
    { $lines }
cashback-empty = No cashback yet. Certificates earn it at once; goods earn it after you confirm receipt.
accrual-line = • { $date } · { $source } · <b>{ $amount }</b> · { $state }
accrual-source-order = order #{ $order }
accrual-source-certificate = certificate
accrual-pending = pending until receipt is confirmed
accrual-on-hold = on hold until { $date }
accrual-available = available since { $date }
accrual-voided = voided: { $reason }
accrual-reason-order-cancelled = the order was cancelled
accrual-reason-dispute-won = the dispute was won and the money returned
accrual-reason-refunded = the purchase was refunded
accrual-reason-other = cancelled
cashback-withdraw-button = 💳 Withdraw
cashback-move-button = 💰 Move to balance
cashback-open-button = 💸 Open cashback
cashback-back = ⬅️ Back to cashback
cashback-withdraw-pick = Withdraw <b>{ $amount }</b> to which card?
cashback-withdraw-no-card = To withdraw <b>{ $amount }</b>, add a card first. Only its brand and last digits are kept.
cashback-withdraw-confirm = Withdraw <b>{ $amount }</b> to the card •••• { $last4 }.
cashback-withdraw-requested =
    ✅ Withdrawal request #{ $request }: <b>{ $amount }</b> to the card •••• { $last4 }.
    Our operators check it, usually within a working day; you will get a message when it is paid or, if not, why.
cashback-move-confirm = Move <b>{ $amount }</b> of cashback to your balance.
cashback-moved =
    ✅ { $amount } moved to your balance.
    Balance: <b>{ $balance }</b> · cashback available: { $available }
cashback-refused-below-minimum = Withdrawals start at { $minimum }; you have { $available } available. You can move any amount to the balance instead.
cashback-refused-no-card = That card is no longer saved. Pick another one or add a card.
cashback-refused-nothing = You have no available cashback yet.
cashback-refused-cap = Your balance is at its limit of { $cap }; spend some of it first.
cashback-refused-reason = Pick a reason for the rejection.
cashback-refused-decided = Request #{ $request } was already { $status ->
        [paid] approved and paid
        [rejected] rejected
       *[other] decided
    }.
notice-cashback-available =
    🎉 Cashback available: <b>+{ $amount }</b>
    Available now: <b>{ $available }</b>. Withdraw it to a card or move it to your balance.
notice-withdrawal-paid = ✅ Your withdrawal of <b>{ $amount }</b> to the card •••• { $last4 } was paid.
notice-withdrawal-rejected =
    ❌ Your withdrawal of <b>{ $amount }</b> to the card •••• { $last4 } was rejected: { $reason ->
        [card_declined] the card declined the transfer
        [details_mismatch] the card's details do not match your account
       *[other] it breaks the programme's rules
    }.
    The money is back in your available cashback.
notice-order-reminder =
    📦 Did order #{ $order } ({ $title }) arrive?
    If you do nothing, it completes by itself on { $completes }. Confirm receipt, or open a dispute before then if something is wrong.
notice-order-open = 📦 Open the order
notice-gift-expired =
    🎁 Your gift of <b>{ $amount }</b> was not claimed in time and went back to your balance.
    Balance: <b>{ $balance }</b>
withdrawal-reason-card-declined = Card declined
withdrawal-reason-details-mismatch = Details do not match
withdrawal-reason-policy = Against the rules
ops-withdrawal =
    💸 Withdrawal request #{ $request }
    User: { $name } (id { $user })
    Amount: <b>{ $amount }</b> to the card •••• { $last4 }
ops-withdrawal-approve = ✅ Approve (paid)
ops-withdrawal-reject = ❌ Reject…
ops-withdrawal-back = ⬅️ Back
ops-withdrawal-paid = ✅ Approved and paid, by { $actor }.
ops-withdrawal-rejected = ❌ Rejected by { $actor }: { $reason }. The money went back to the user's available cashback.
history-kind-cashback-released = cashback released after the hold
history-kind-cashback-withdrawal = cashback withdrawal to a card
history-kind-cashback-withdrawal-rejected = withdrawal rejected, cashback returned
history-kind-cashback-to-balance = cashback moved to the balance

## Notifications

cmd-notifications = Which notices you get
notifications-title =
    <b>🔔 Notifications</b>
    Tap a kind to switch it on 🔔 or off 🔕. Messages about your money (withdrawals, refunds) always come.
notifications-button = 🔔 Notifications
notifications-kind-cashback-available = Cashback became available
notifications-kind-order-reminder = Reminder to confirm receipt
notifications-kind-gift-expired = Unclaimed gift returned

# Operators' chat: a message that could not reach a person.
ops-undelivered = ⚠️ Not delivered: { $name } (id { $user_id }) has blocked the bot. The message waits until they press /start again.

## Mini App

cmd-app = The wallet as an app
app-open = Your wallet as an app: the balance and its certificates, the history with a chart, cashback and orders.
app-open-button = 📱 Open the wallet
app-not-set-up = The app is not set up on this bot yet: the chat does everything it does.
app-menu-button = Wallet
webapp-title = Giftwallet
webapp-tab-overview = Overview
webapp-tab-history = History
webapp-tab-cashback = Cashback
webapp-tab-orders = Orders
webapp-balance = Certificate balance
webapp-cashback = Cashback
webapp-available = Available
webapp-on-hold = On hold
webapp-pending = Pending
webapp-next-release = Next to become available
webapp-certificates = Certificates
webapp-certificates-empty = No certificates yet. Buy one in the chat: Balance → Buy.
webapp-chart = Balance over time
webapp-chart-empty = The chart appears after the first change of your balance.
webapp-history-empty = No movements of money yet.
webapp-cashback-empty = No cashback yet. Certificates earn it at once; goods earn it after you confirm receipt.
webapp-orders-empty = No orders yet.
webapp-older = Older
webapp-more = More
webapp-loading = Loading…
webapp-open-in-telegram = Open this page from the bot: its menu button, or the /app command.
webapp-session-ended = The session has ended. Close the app and open it again from the bot.
webapp-failed = Something went wrong. Try again in a moment.
webapp-retry = Try again
webapp-pay = Pay
webapp-confirm-title = Confirm the payment
webapp-password-label = Payment password
webapp-password-hint = The one you set in the chat; never your Telegram password.
webapp-confirm = Confirm
webapp-cancel = Cancel
webapp-confirm-biometric = Confirm with biometrics
webapp-enroll = Confirm with biometrics on this device next time
webapp-biometric-reason = Confirm the payment from your Giftwallet balance
webapp-biometric-denied = Biometrics did not confirm it. Nothing was charged.
webapp-too-many = Too many attempts at once. Wait a few seconds.
webapp-move-title = Cashback to the balance
webapp-withdraw-title = Cashback to the card •••• { $last4 }
webapp-gift-title = A gift certificate from your balance
notice-app-confirmed = 📱 Confirmed in the app: { $operation ->
        [order_pay] order #{ $ref } paid
        [cashback_move] cashback moved to the balance
        [cashback_withdraw] cashback withdrawal requested
       *[other] a gift certificate made from the balance
    }, { $amount }.
    Not you? Change your payment password in 🔐 Security now.
webapp-done-order-pay = Paid. The shop has the order.
webapp-done-cashback-move = Done: the cashback is on your balance.
webapp-done-cashback-withdraw = Requested: operators pay it to your card, and you hear when it is paid.
webapp-done-gift-from-balance = The gift is ready: share its link.
webapp-move = Move to the balance
webapp-withdraw = Withdraw to a card
webapp-withdraw-card = Card
webapp-no-cards = To withdraw, add a card in the chat: /cards.
webapp-gift = Give a gift from the balance
webapp-gift-amount = Amount
webapp-gift-note = A note (optional)
webapp-gift-give = Make the gift
webapp-share = Share
webapp-copy = Copy the link
webapp-gift-until = unclaimed, it comes back to you after
webapp-shared = Sent: whoever opens the card claims the gift.
webapp-csv = ⬇️ Download as CSV
webapp-source-bought = bought
webapp-source-gift = a gift
webapp-source-refund = returned
webapp-source-cashback = from cashback
webapp-certificate-left = { $remaining } of { $nominal }
webapp-live-certificates = { $count ->
    [one] one certificate with money left
   *[other] { $count } certificates with money left
}
