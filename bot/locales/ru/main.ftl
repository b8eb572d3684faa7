## Приветствие и главное меню

start-greeting =
    👋 Здравствуйте, <b>{ $name }</b>!

    Это <b>Giftwallet</b>: подарочные сертификаты складываются в один баланс, с него оплачиваются заказы, а за каждую покупку начисляется кешбэк.

    Что сделать?
menu-title = Главное меню. Что сделать?
menu-balance = 💰 Баланс
menu-buy = 🎁 Купить сертификат
menu-orders = 📦 Заказы
menu-cashback = 💸 Кешбэк
menu-cards = 💳 Карты
menu-security = 🔐 Безопасность
menu-support = 💬 Поддержка
menu-language = 🌐 Язык
menu-back = ⬅️ Главное меню

## Баланс

balance-text =
    <b>💰 Ваш баланс</b>

    Сертификаты: <b>{ $balance }</b> ({ $count ->
        [one] { $count } сертификат
        [few] { $count } сертификата
       *[other] { $count } сертификатов
    })
    Кешбэк доступен: <b>{ $available }</b>
balance-cashback-on-hold = Кешбэк на удержании: { $amount } — станет доступен с { $date }
balance-cashback-pending = Кешбэк в ожидании: { $amount } — до подтверждения получения
balance-refresh = 🔄 Обновить
inline-balance-title = Баланс: { $balance }, { $count ->
        [one] { $count } сертификат
        [few] { $count } сертификата
       *[other] { $count } сертификатов
    }
inline-balance-description = Кешбэк: доступен { $available }, на удержании { $on_hold }, в ожидании { $pending }

## Помощь, язык, отмена, непонятный ввод

help-intro = <b>Giftwallet</b> хранит ваши подарочные сертификаты, заказы и кешбэк в одном месте.
help-group-wallet = Кошелёк
help-group-shop = Магазин
help-group-cashback = Кешбэк
help-group-security = Безопасность
help-group-support = Поддержка
help-group-info = О боте
help-outro = Деньги никогда не списываются без вашего платёжного пароля.
language-choose = Выберите язык:
language-set = Язык: русский.
cancel-done = Отменено. Ничего не изменилось.
cancel-nothing = Сейчас нечего отменять.
unknown-text = Не понял сообщение. Воспользуйтесь кнопками ниже или /help.
unknown-command = Такой команды нет. Что я умею — в /help.
text-too-long = Сообщение слишком длинное. Пришлите что-нибудь покороче.
throttled = ⏳ Слишком много запросов подряд. Подождите несколько секунд и попробуйте снова.

## Команды (setMyCommands)

cmd-start = Главное меню
cmd-balance = Баланс и кешбэк
cmd-language = Сменить язык
cmd-cancel = Прервать текущий шаг
cmd-help = Помощь

## Ошибки

error-internal = ⚠️ У нас что-то пошло не так. Деньги не списаны. Попробуйте ещё раз через минуту.
error-after-money =
    ⚠️ Ответ не удалось показать, но вот что сделано:
    { $steps }
    В /history видно каждое движение ваших денег.
step-order-paid = заказ №{ $id } оплачен с баланса
step-order-refunded = деньги за заказ №{ $id } вернулись на баланс
step-withdrawal-requested = создана заявка на вывод кешбэка
step-cashback-moved = кешбэк переведён на баланс
step-gift-made = создан подарочный код
step-gift-claimed = подарок зачислен на баланс
step-certificate-credited = сертификат зачислен на баланс
step-other = баланс изменился
error-domain = Сейчас это сделать нельзя.
error-stale-action = Эта кнопка уже неактуальна. Откройте /start, чтобы получить свежее меню.
error-insufficient-funds = Недостаточно средств: нужно { $needed }, доступно { $available }.
error-idempotency-conflict = Эта операция уже была выполнена с другими данными.

## Ввод суммы

amount-empty = Пришлите сумму, например 25 или 12,50.
amount-too-long = Слишком длинное число. Пришлите сумму, например 25 или 12,50.
amount-negative = Сумма должна быть положительной.
amount-format = Пришлите сумму цифрами, например 25 или 12,50.
amount-precision = Слишком много знаков после запятой.
amount-zero = Сумма должна быть больше нуля.

## Language names are written in their own language, whatever the interface language

language-button-ru = 🇷🇺 Русский
language-button-en = 🇬🇧 English

## Когда обновление не удалось обработать за несколько попыток
payment-received-later = ✅ Оплата получена. Мы зачисляем её и напишем, когда деньги поступят на баланс; платить ещё раз не нужно.
ops-payment-parked = ⚠️ Платёж не удалось зачислить автоматически. Обновление { $update_id }, пользователь { $user_id }, { $amount }, платёж { $charge_id }. Он ждёт во входящей очереди: проверьте его и выполните <code>python -m bot inbox --retry { $update_id }</code>.

## Платёжный пароль и контрольные вопросы
error-wrong-password = ❌ Неверный платёжный пароль. Попыток до блокировки: { $attempts_left }.
error-locked = 🔒 Слишком много неудачных попыток. Оплата и восстановление пароля заблокированы до { $until } ({ $left }). Если вы забыли пароль и ответы, напишите в /support.
error-no-password = Платёжный пароль ещё не задан. Задайте его командой /password.
error-password-already-set = Платёжный пароль уже задан. Изменить его можно в разделе 🔐 Безопасность.
password-weak-too-short = Пароль слишком короткий: нужно от { $min } до { $max } символов.
password-weak-too-long = Пароль слишком длинный: нужно от { $min } до { $max } символов.
password-weak-one-char = Пароль из одного повторяющегося символа легко подобрать. Придумайте другой.
password-weak-sequence = Последовательность вроде 123456 или abcdef легко подобрать. Придумайте другой.
password-weak-common = Этот пароль есть в любом списке популярных паролей. Придумайте другой.
password-weak-name = Ваше имя легко угадать. Придумайте другой пароль.
error-answer-invalid = Ответ должен быть длиной от 1 до { $max } символов. Попробуйте ещё раз.
error-wrong-answers = ❌ Ответы не совпадают с заданными. Попыток до блокировки: { $attempts_left }.
error-operation-gone = Этот запрос уже недействителен (выполнен, отменён или устарел). Деньги не списаны.
error-confirmation-refused = Это подтверждение уже недействительно. Деньги не списаны: начните заново.
question-first-pet = Как звали вашего первого питомца?
question-birth-city = В каком городе вы родились?
question-first-school = Номер или название вашей первой школы?
question-first-teacher = Фамилия вашего первого учителя?
question-favorite-book = Ваша любимая книга в детстве?
question-childhood-friend = Как зовут вашего лучшего друга детства?
question-first-car = Марка вашего первого автомобиля?
question-childhood-street = На какой улице вы жили в детстве?
question-parents-met = В каком городе познакомились ваши родители?
cmd-password = Платёжный пароль
cmd-recover = Восстановить платёжный пароль
cmd-privacy = Какие данные мы храним
button-cancel = ✖️ Отмена
security-menu =
    <b>🔐 Безопасность</b>

    Платёжный пароль задан. Он подтверждает каждую оплату с баланса.
security-change = 🔑 Сменить пароль
security-forgot = ❓ Забыли пароль?
password-setup-intro =
    <b>🔐 Платёжный пароль</b>

    Он подтверждает каждую оплату с баланса. Это <b>не</b> пароль от Telegram: его здесь вводить нельзя.
    Введите новый платёжный пароль. Сообщение исчезнет из чата, как только бот его прочитает.
password-rules = Правила: от { $min } до { $max } символов; не один повторяющийся символ, не последовательность вроде 123456, не ваше имя и не с / в начале (так начинаются команды).
password-repeat = Введите тот же пароль ещё раз.
password-mismatch = Пароли не совпали. Начнём сначала: введите новый пароль.
questions-pick = Выберите контрольный вопрос { $number } из { $total }. По ответам можно восстановить пароль, если вы его забудете.
answer-prompt =
    <b>{ $question }</b>

    Напишите ответ. Регистр и лишние пробелы не важны.
password-set-done = ✅ Платёжный пароль и три контрольных вопроса заданы. Ничего секретного в этом чате не показано и не сохранено.
password-current = Введите текущий платёжный пароль.
password-new = Введите новый платёжный пароль.
password-changed = ✅ Платёжный пароль изменён.
recover-question =
    Вопрос { $number } из { $total }:
    <b>{ $question }</b>
recover-passed = ✅ Ответы совпали. Введите новый платёжный пароль.
hint-password = Жду пароль обычным текстовым сообщением — или нажмите «Отмена».
hint-password-repeat = Введите тот же пароль ещё раз текстом — или нажмите «Отмена».
hint-password-current = Введите текущий платёжный пароль текстом — или нажмите «Отмена».
hint-question-buttons = Выберите вопрос кнопкой выше — или нажмите «Отмена».
hint-answer = Напишите ответ текстовым сообщением — или нажмите «Отмена».
privacy-text =
    <b>Что хранит Giftwallet</b>

    • Ваш id в Telegram, имя и язык — чтобы отвечать вам.
    • Ваши балансы и каждое движение денег — как того требует закон о платежах.
    • Платёжный пароль и ответы на контрольные вопросы — только в виде медленных хешей с солью (argon2id): прочитать их обратно не может никто, даже мы. Сообщения с ними сразу удаляются из чата.
    • Сохранённые карты — только платёжная система, первые 6 и последние 4 цифры и срок действия. Никогда полный номер и никогда CVV.

    Мы никогда не спрашиваем пароль от Telegram и CVV карты. Чтобы удалить ваши данные, напишите в /support.

## Сохранённые карты
cmd-cards = Сохранённые карты
cards-empty =
    <b>💳 Сохранённые карты</b>

    Карт пока нет. На сохранённую карту можно вывести кешбэк. Хранятся только платёжная система, первые 6 и последние 4 цифры и срок действия; никогда полный номер и никогда CVV.
cards-list =
    <b>💳 Сохранённые карты</b> ({ $count } из { $limit })

    { $cards }

    Нажмите на карту, чтобы удалить её.
card-add-button = ➕ Добавить карту
card-delete-button = 🗑 { $card }
card-number-prompt = Отправьте номер карты (16 цифр; пробелы и дефисы можно). Сообщение удалится сразу после прочтения. CVV не отправляйте: он нам не нужен.
card-expiry-prompt = { $card }: теперь отправьте срок действия в виде ММ/ГГ, например 09/28.
card-added = ✅ Карта сохранена: { $card }
card-delete-confirm = Удалить { $card }?
card-delete-yes = 🗑 Удалить
card-delete-no = ↩️ Оставить
card-invalid-format = Это не похоже на номер карты: нужно от 12 до 19 цифр.
card-invalid-checksum = В номере карты опечатка (не сходится контрольная цифра). Проверьте и отправьте ещё раз.
card-invalid-brand = Сохранить можно только карты Visa, Mastercard, Мир, UnionPay и American Express.
card-invalid-expiry-format = Отправьте срок действия в виде ММ/ГГ, например 09/28.
card-invalid-expired = Срок действия карты истёк. Отправьте срок действующей карты.
error-card-limit = Можно хранить не больше { $limit } карт. Сначала удалите одну.
error-card-duplicate = Эта карта уже сохранена.
hint-card-number = Отправьте номер карты текстовым сообщением — или нажмите «Отмена».
hint-card-expiry = Отправьте срок действия в виде ММ/ГГ — или нажмите «Отмена».

## Поддержка
cmd-support = Написать в поддержку
support-unavailable = Поддержка в этом боте пока недоступна. Попробуйте позже.
support-opened =
    <b>💬 Поддержка, обращение №{ $ticket }</b>

    Опишите вопрос одним или несколькими сообщениями — оператор ответит здесь. Никогда не отправляйте пароли и номера карт. /close закрывает обращение.
support-sent = ✉️ Отправлено в поддержку. Оператор ответит в этом чате.
support-hint = Поддержка пока принимает только текстовые сообщения. /close закрывает обращение.
support-nothing-open = У вас нет открытых обращений.
support-closed = ✅ Обращение №{ $ticket } закрыто. Пишите /support, если снова понадобится помощь.
support-relayed = 🎫 №{ $ticket } · пользователь <code>{ $user_id }</code> ({ $name }):
support-closed-ops = 🎫 №{ $ticket } закрыто пользователем.
support-reply = 💬 Поддержка (обращение №{ $ticket }):
support-too-long = Не отправлено: в сообщении { $length } символов, а в поддержку уходит до { $max } за раз. Пожалуйста, отправьте его двумя частями.
support-delivered = ✅ Отправлено в обращение №{ $ticket }. Если пользователь заблокировал бота, в этом чате будет сообщение.
support-reply-unknown = Это не ответ на сообщение открытого обращения: ничего не отправлено.
admin-reset-usage = Использование: /admin_reset_password USER_ID
admin-reset-done = ✅ Платёжный пароль и контрольные вопросы пользователя { $user_id } сброшены; ему сообщили, что нужно задать новые.
admin-reset-nothing = У пользователя { $user_id } не было платёжного пароля. Попытка записана.
password-reset-notice = 🔐 Поддержка сбросила ваш платёжный пароль и контрольные вопросы. Задайте новые командой /password.

## Подтверждение оплаты
confirm-prompt = 🔐 Введите платёжный пароль для подтверждения. Сообщение исчезнет сразу после прочтения.
confirm-needs-password = Чтобы платить с баланса, сначала задайте платёжный пароль.
confirm-done = ✅ Подтверждено.

## Certificates

cmd-buy = Купить подарочный сертификат
cmd-paysupport = Помощь с оплатой
cmd-terms = Условия продажи
price-stars = ⭐ { $stars }
buy-intro =
    <b>🎁 Подарочные сертификаты</b>

    Ваш баланс: <b>{ $balance }</b>, { $count ->
        [one] { $count } сертификат
        [few] { $count } сертификата
       *[other] { $count } сертификатов
    }.
    Сертификаты складываются в один баланс, которым оплачиваются заказы.

    Выберите номинал или введите сумму от { $min } до { $max }. Оплата в Telegram Stars ({ $rate } за { $unit }), кешбэк { $cashback }% начисляется сразу.
buy-custom-button = ✏️ Другая сумма
certificates-button = 🗂 Мои сертификаты
gift-from-balance-button = 🎀 Подарить с баланса
buy-for-self = 👤 Себе
buy-as-gift = 🎁 В подарок
buy-purpose =
    Сертификат <b>{ $amount }</b> за <b>{ $price }</b>.
    Кешбэк сразу: { $cashback }.

    Кому он?
buy-custom-prompt = Введите сумму от { $min } до { $max }, например 25 или 12,50.
gift-note-prompt = Подарок на <b>{ $amount }</b>. Напишите пожелание получателю (до { $max } символов) или пропустите.
gift-note-skip = Без пожелания
invoice-title = Подарочный сертификат { $amount }
invoice-gift-title = Подарочный код на { $amount }
invoice-description = Пополняет баланс Giftwallet на { $amount }, кешбэк { $cashback } сразу.
invoice-description-gift = Подарочный код на { $amount } для кого угодно; вам кешбэк { $cashback } сразу.
amount-below-min = Самый маленький сертификат — { $min }.
amount-above-max = Самый большой сертификат — { $max }.
error-balance-cap = На балансе сертификатов может быть не больше { $cap }: свободно ещё { $room }.
checkout-unknown = Этот счёт не ваш или больше не действует. Начните заново: /buy.
checkout-paid = Этот счёт уже оплачен.
checkout-changed = Счёт не совпадает с покупкой. Начните заново: /buy.
payment-credited =
    ✅ На баланс зачислено <b>{ $amount }</b>.
    Кешбэк: +{ $cashback }, доступен сразу.
    Баланс теперь: <b>{ $balance }</b>.
payment-unmatched = Оплата получена, но не нашлась покупка, к которой она относится. Поддержка уже знает и всё уладит; можно написать и в /paysupport.
payment-returned = ↩️ Вы оплатили один и тот же сертификат дважды. Второй платёж, { $currency ->
        [XTR] ⭐ { $stars }
       *[other] { $stars } { $currency }
    }, вернулся к вам; больше ничего не изменилось.
payment-return-pending = Вы оплатили один и тот же сертификат дважды. Вернуть второй платёж ({ $currency ->
        [XTR] ⭐ { $stars }
       *[other] { $stars } { $currency }
    }) сразу не получилось: операторы уже знают и вернут его.
refund-done = ↩️ Оформлен возврат { $amount }: эта сумма и её кешбэк списаны с баланса.
refund-refused-unknown = такого платежа нет
refund-refused-spent = из этого сертификата уже потрачено { $spent }
refund-refused-gift-closed = подарочный код уже получен или вернулся
refund-refused-cashback-spent = его кешбэк ({ $cashback }) уже потрачен
certificates-empty = Сертификатов пока нет. Купить: /buy.
certificates-list =
    <b>🗂 Мои сертификаты</b>: с остатком — { $live }, всего <b>{ $balance }</b>.

    { $lines }

    Страница { $page } из { $pages }. Заказы списываются сначала со старых сертификатов.
certificate-line-bought = • { $remaining } из { $nominal } — куплен { $date }
certificate-line-gift = • { $remaining } из { $nominal } — подарок, { $date }
certificate-line-refund = • { $remaining } из { $nominal } — возврат { $date }
paysupport-opened = Поддержка по оплате, обращение №{ $ticket }. Опишите, какой платёж и что пошло не так. Операторы видят ваши последние платежи. /close завершает разговор.
terms-text =
    <b>Условия продажи</b>

    • Подарочный сертификат — это предоплаченный баланс в этом боте. Им оплачиваются заказы здесь; на деньги он не обменивается.
    • Сертификаты оплачиваются в Telegram Stars. Каждая покупка приносит кешбэк { $cashback }%, доступный сразу.
    • На балансе может быть до { $max }.
    • Неполученный подарочный код возвращается дарителю через { $days } { $days ->
        [one] день
        [few] дня
       *[many] дней
    }.
    • Неизрасходованный сертификат можно вернуть: напишите в /paysupport.
    • Платёжный пароль знаете только вы: это не пароль от Telegram, и мы никогда не просим его в чате.

## Gifts

gift-card = 🎁 <b>Подарочный сертификат на { $amount }</b> в Giftwallet. Нажмите кнопку, чтобы получить его.
gift-card-note = 💌 { $note }
gift-ready =
    🎁 <b>Подарочный код на { $amount } готов.</b>

    Отправьте ссылку получателю или нажмите «Поделиться», чтобы отправить открытку в чат:
    <a href="{ $link }">{ $link }</a>

    Если до { $expires } его никто не получит, деньги вернутся на ваш баланс.
gift-cashback = Кешбэк: +{ $cashback }, доступен сразу.
gift-share = 📤 Поделиться подарком
gift-open-link = 🔗 Открыть ссылку
gift-copy-link = 📋 Скопировать ссылку
gift-claim-button = 🎁 Получить подарок
gift-inline-title = Подарочный сертификат { $amount }
gift-inline-description = Отправить открытку с подарком в этот чат
gift-claimed =
    🎉 { $giver } дарит вам <b>{ $amount }</b>: подарок зачислен на баланс.
    Баланс теперь: <b>{ $balance }</b>.
gift-code-invalid = Эта подарочная ссылка недействительна, уточните её у отправителя. { $attempts_left ->
        [one] Ещё одна ошибка — и получение подарков приостановится на час.
        [few] Осталось { $attempts_left } попытки в этом часе.
       *[other] Осталось { $attempts_left } попыток в этом часе.
    }
gift-code-locked = Слишком много неверных подарочных кодов. Попробуйте после { $until } ({ $left }).
gift-own-code = Это ваш собственный подарок: отправьте ссылку тому, кому дарите.
gift-unavailable-own-claimed = Ваш подарок уже получен (кем: { $name }, когда: { $date }).
gift-unavailable-own-expired = Ваш подарок не успели получить: { $date } сумма вернулась на ваш баланс.
gift-unavailable-claimed = Этот подарок уже получен.
gift-unavailable-expired = Срок подарка истёк, деньги вернулись дарителю.
gift-unavailable-refunded = За этот подарок оформлен возврат дарителю.
gift-note-empty = Пожелание пустое: напишите текст или пропустите.
gift-note-too-long = В пожелании { $length } символов, а можно не больше { $max }.
gift-from-balance-prompt =
    <b>🎀 Подарок с баланса</b>
    Баланс: <b>{ $balance }</b>.

    Введите сумму подарка от { $min } до { $max }. Подтвердите её платёжным паролем.
gift-from-balance-confirm = Дарите { $amount } с баланса подарочным кодом.
hint-gift-amount = Введите сумму подарка цифрами, например 25 или 12,50, или нажмите «Отмена».

## Operators: payments

ops-payment-unmatched = ⚠️ Платёж не совпал ни с одной покупкой: пользователь { $user_id }, платёж { $charge_id }. Ничего не зачислено; верните его или зачислите вручную.
ops-payment-return-failed = ⚠️ Второй платёж за одну покупку не удалось вернуть: пользователь { $user_id }, платёж { $charge_id }, { $stars } { $currency }. Ответ Telegram: { $error }. Верните его вручную.
ops-refund-unreversed = ⚠️ Telegram вернул платёж { $charge_id } пользователя { $user_id }, но списать его не удалось: { $reason }.
ops-paysupport =
    💳 Поддержка по оплате №{ $ticket } · пользователь { $name } (id { $user_id }).
    Последние платежи:
    { $charges }
    Ответьте на это сообщение, чтобы написать пользователю.
ops-charge-line = • { $charge_id }: { $amount } за { $price }, { $status ->
        [paid] оплачен
        [refunded] возвращён
       *[other] не оплачен
    }, { $date }
ops-no-charges = (нет)
ops-reconcile-report =
    ⚠️ Сверка Stars нашла расхождения:
    { $lines }
ops-discrepancy-uncredited = • платёж { $charge_id } (пользователь { $user_id }, ⭐ { $stars }) не зачислен в журнале
ops-discrepancy-unreversed = • возврат { $charge_id } (пользователь { $user_id }, ⭐ { $stars }) не списан в журнале
ops-discrepancy-unknown-to-telegram = • зачисление { $charge_id } (пользователь { $user_id }, ⭐ { $stars }) отсутствует в выписке Telegram
ops-discrepancy-unreturned = • второй платёж { $charge_id } (пользователь { $user_id }, ⭐ { $stars }) ещё не возвращён
ops-discrepancy-amount = • платёж { $charge_id } (пользователь { $user_id }): сумма у Telegram отличается от журнала на ⭐ { $stars }
ops-discrepancy-balance = • баланс Stars у Telegram отличается от расчётного на ⭐ { $stars }
admin-refund-usage = Использование: /admin_refund CHARGE_ID
admin-refund-refused = Возврат не сделан: платёж { $charge_id }: { $reason }.
admin-refund-telegram = Telegram отказал в возврате { $charge_id }: { $error }
admin-refund-unreversed = Telegram вернул { $charge_id }, но списать не удалось: { $reason }.
admin-refund-done = Возврат { $charge_id }: { $amount } списано у пользователя { $user_id }.
admin-refund-already = Платёж { $charge_id } уже возвращён { $date }: { $amount } пользователя { $user_id }. Сейчас ничего не списано.
admin-reconcile-done = Сверка завершена: { $count ->
        [0] расхождений нет.
        [one] { $count } расхождение, отправлено в чат операторов.
        [few] { $count } расхождения, отправлены в чат операторов.
       *[other] { $count } расхождений, отправлены в чат операторов.
    }
admin-stars-books =
    ⭐ Счёт Stars
    Получено от покупателей: { $collected }
    Возвращено покупателям: { $refunded }
    Комиссии партнёрам: { $commissions }
    Доход: { $income }
    { $transfers }
    Баланс по расчёту: { $expected }
    Баланс у Telegram: { $balance }
admin-stars-transfer = { $kind ->
        [fragment] Выведено на Fragment
        [telegram_ads] Telegram Ads
        [telegram_api] Платные рассылки
        [affiliate_program] Получено как партнёр
       *[other] Прочие движения
    }: { $amount }
admin-stars-no-transfers = Выводов и прочих движений нет.
admin-stars-balance-moving = не сверен: менялся, пока читалась выписка

## Orders

order-refused-no-title = У заказа должно быть название.
order-refused-no-amount = Сумма заказа должна быть больше нуля.
order-refused-quantity = Количество — от 1 до 10.
order-refused-unknown-user = Этот пользователь ещё не запускал бота.
order-refused-not-found = Заказ №{ $order } не найден.
order-refused-not-payable = Заказ №{ $order } больше не ждёт оплаты.
order-refused-illegal = Заказ №{ $order } сейчас: { $current }. Перевести его в «{ $status }» нельзя.
order-refused-refund-amount = Возврат по заказу №{ $order } должен быть больше нуля и не больше { $most }.
order-button = №{ $id } { $title }
orders-back = 📦 Мои заказы
order-top-up-nominal = 🎁 Купить сертификат на { $nominal }
order-back = ⬅️ К заказу
order-card =
    <b>📦 Заказ №{ $id }</b>: { $title }
    Сумма: <b>{ $amount }</b>
    Статус: { $status }
order-card-cashback = Кешбэк за товар: { $cashback }, { $state }
order-card-tracking = Трек-номер: { $tracking }
order-card-refunded = Возвращено на баланс: { $amount }
order-card-balance = Ваш баланс: { $balance }; после оплаты: { $after }
order-card-short = Ваш баланс: { $balance }; для этого заказа не хватает { $gap }. Ничего не списано.
order-card-history =
    История:
    { $history }
order-history-line = • { $date } — { $status }
orders-empty = Заказов пока нет.
orders-list =
    <b>📦 Мои заказы</b>

    { $lines }

    Страница { $page } из { $pages }.
orders-line = №{ $id } { $title } — { $amount }, { $status }, { $date }
order-short = Заказ №{ $id }: на балансе ({ $balance }) не хватает { $gap }. Ничего не списано.
order-short-suggest = Хватит сертификата на { $nominal }; как только он будет оплачен, заказ вернётся сюда с кнопкой оплаты.
order-pay-confirm = Оплата заказа №{ $id } с баланса.
order-paid = ✅ Заказ №{ $id } оплачен с баланса. Баланс теперь: <b>{ $balance }</b>.
order-notice = 📦 Заказ №{ $id }: { $status }.
order-notice-auto-completed = Он завершён автоматически: срок защиты после доставки истёк. Спасибо за заказ!
order-billed = 🧾 Магазин выставил вам новый счёт.
order-action-pay = 💳 Оплатить
order-action-cancel = ✖️ Отменить заказ
order-action-confirm = ✅ Я получил(а) заказ
order-action-dispute = ⚠️ Открыть спор
order-status-awaiting-payment = ждёт оплаты
order-status-paid = оплачен
order-status-shipped = отправлен
order-status-delivered = доставлен
order-status-completed = завершён
order-status-cancelled = отменён, деньги вернулись на баланс
order-status-disputed = спор открыт
order-status-dispute-won = спор выигран, деньги вернулись на баланс
order-status-dispute-lost = спор закрыт без возврата
cmd-orders = Мои заказы
ops-order = 👤 Покупатель: { $name } (id { $user_id })
ops-order-ship = 🚚 Отправлен
ops-order-deliver = 📬 Доставлен
ops-order-won = ✅ Спор выигран (возврат)
ops-order-lost = ❌ Спор проигран
admin-order-usage = Использование: /admin_order USER_ID СУММА НАЗВАНИЕ
admin-order-done = Заказ №{ $id } создан для пользователя { $user_id }: счёт отправляется ему.
admin-order-moved = Заказ №{ $id }: теперь { $status }.
admin-ship-usage = Использование: /admin_ship ORDER_ID [ТРЕК]
admin-deliver-usage = Использование: /admin_deliver ORDER_ID
admin-dispute-usage = Использование: /admin_dispute ORDER_ID won [СУММА] | lost
order-refused-sold-out = Извините, столько нет в наличии.
order-refused-no-product = Этого товара больше нет в магазине.
menu-shop = 🛍 Магазин
cmd-shop = Магазин
shop-home = <b>🛍 Магазин</b>
    Выберите категорию. Заказы оплачиваются с баланса сертификатов, за товары начисляется кешбэк.
shop-empty = В магазине пока нет товаров.
shop-categories = ⬅️ Категории
shop-category = <b>{ $title }</b> — страница { $page } из { $pages }
shop-product-button = { $title } — { $price }
shop-product-button-sold-out = { $title } — нет в наличии
shop-product =
    <b>{ $title }</b>
    { $description }

    Цена: <b>{ $price }</b> · кешбэк { $cashback }%
    В наличии: { $stock }

    Количество: { $quantity } · итого <b>{ $total }</b>
shop-buy = 🛒 Заказать
shop-back-to-list = ⬅️ К списку
history-kind-certificate-purchase = покупка сертификата
history-kind-gift-purchase = покупка подарочного кода
history-kind-certificate-refund = возврат сертификата
history-kind-gift-from-balance = подарок с баланса
history-kind-gift-claim = получен подарок
history-kind-gift-returned = возврат неполученного подарка
history-kind-order-payment = оплата заказа
history-kind-order-refund = возврат по заказу
history-kind-order-cashback-pending = кешбэк за товар (ожидает)
history-kind-order-cashback-voided = кешбэк аннулирован
history-kind-order-cashback-released = кешбэк начислен
history-kind-other = другая операция
history-account-balance = баланс
history-account-cashback-pending = кешбэк в ожидании
history-account-cashback-available = кешбэк
history-line = { $date } · { $what } · { $account } <b>{ $amount }</b> → { $after }
history-title =
    <b>🧾 История</b>, сначала новые

    { $lines }
history-empty = Движений пока нет.
history-newest = ⏮ Новые
history-older = Раньше ▶️
history-export = 📄 Выгрузить CSV
history-export-caption = Ваша история: { $count } движений. Суммы по каждому счёту складываются в его остаток.
cmd-history = История операций


## Кешбэк

cmd-cashback = Кешбэк: статусы, вывод, перевод на баланс
cashback-title =
    <b>💸 Кешбэк</b>
    Доступно: <b>{ $available }</b> — вывести на карту (от { $minimum }) или перевести на баланс
    На удержании: { $on_hold } — заказы получены, идёт срок удержания
    В ожидании: { $pending } — до подтверждения получения товара
cashback-next = ⏳ Следующее начисление: <b>{ $amount }</b> станет доступно { $date }
cashback-accruals =
    Начисления, сначала новые (страница { $page } из { $pages }):
    { $lines }
cashback-empty = Кешбэка пока нет. Сертификаты дают его сразу, товары — после подтверждения получения.
accrual-line = • { $date } · { $source } · <b>{ $amount }</b> · { $state }
accrual-source-order = заказ №{ $order }
accrual-source-certificate = сертификат
accrual-pending = в ожидании до подтверждения получения
accrual-on-hold = на удержании до { $date }
accrual-available = доступен с { $date }
accrual-voided = аннулирован: { $reason }
accrual-reason-order-cancelled = заказ отменён
accrual-reason-dispute-won = спор выигран, деньги вернулись
accrual-reason-refunded = покупка возвращена
accrual-reason-other = отменён
cashback-withdraw-button = 💳 Вывести
cashback-move-button = 💰 На баланс
cashback-open-button = 💸 Открыть кешбэк
cashback-back = ⬅️ К кешбэку
cashback-withdraw-pick = На какую карту вывести <b>{ $amount }</b>?
cashback-withdraw-no-card = Чтобы вывести <b>{ $amount }</b>, сначала добавьте карту. Хранятся только её платёжная система и последние цифры.
cashback-withdraw-confirm = Вывод <b>{ $amount }</b> на карту •••• { $last4 }.
cashback-withdraw-requested =
    ✅ Заявка на вывод №{ $request }: <b>{ $amount }</b> на карту •••• { $last4 }.
    Операторы проверят её, обычно в течение рабочего дня; мы напишем, когда деньги будут выплачены, а если нет — почему.
cashback-move-confirm = Перевод <b>{ $amount }</b> кешбэка на баланс.
cashback-moved =
    ✅ { $amount } переведено на баланс.
    Баланс: <b>{ $balance }</b> · доступный кешбэк: { $available }
cashback-refused-below-minimum = Вывод — от { $minimum }, а доступно { $available }. Любую сумму можно перевести на баланс.
cashback-refused-no-card = Эта карта больше не сохранена. Выберите другую или добавьте карту.
cashback-refused-nothing = Доступного кешбэка пока нет.
cashback-refused-cap = Баланс достиг предела { $cap }; сначала потратьте часть.
cashback-refused-reason = Выберите причину отказа.
cashback-refused-decided = Заявка №{ $request } уже { $status ->
        [paid] одобрена и выплачена
        [rejected] отклонена
       *[other] рассмотрена
    }.
notice-cashback-available =
    🎉 Кешбэк доступен: <b>+{ $amount }</b>
    Теперь доступно: <b>{ $available }</b>. Выведите его на карту или переведите на баланс.
notice-withdrawal-paid = ✅ Вывод <b>{ $amount }</b> на карту •••• { $last4 } выплачен.
notice-withdrawal-rejected =
    ❌ Вывод <b>{ $amount }</b> на карту •••• { $last4 } отклонён: { $reason ->
        [card_declined] карта отклонила перевод
        [details_mismatch] данные карты не совпадают с вашим аккаунтом
       *[other] он нарушает правила программы
    }.
    Деньги вернулись в доступный кешбэк.
notice-order-reminder =
    📦 Заказ №{ $order } ({ $title }) пришёл?
    Если ничего не делать, он завершится сам { $completes }. Подтвердите получение или откройте спор до этой даты, если что-то не так.
notice-order-open = 📦 Открыть заказ
notice-gift-expired =
    🎁 Ваш подарок на <b>{ $amount }</b> не забрали вовремя, деньги вернулись на баланс.
    Баланс: <b>{ $balance }</b>
withdrawal-reason-card-declined = Карта отклонила
withdrawal-reason-details-mismatch = Данные не совпадают
withdrawal-reason-policy = Нарушение правил
ops-withdrawal =
    💸 Заявка на вывод №{ $request }
    Пользователь: { $name } (id { $user })
    Сумма: <b>{ $amount }</b> на карту •••• { $last4 }
ops-withdrawal-approve = ✅ Одобрить (выплачено)
ops-withdrawal-reject = ❌ Отклонить…
ops-withdrawal-back = ⬅️ Назад
ops-withdrawal-paid = ✅ Одобрено и выплачено, оператор { $actor }.
ops-withdrawal-rejected = ❌ Отклонено оператором { $actor }: { $reason }. Деньги вернулись в доступный кешбэк пользователя.
history-kind-cashback-released = кешбэк начислен после удержания
history-kind-cashback-withdrawal = вывод кешбэка на карту
history-kind-cashback-withdrawal-rejected = вывод отклонён, кешбэк возвращён
history-kind-cashback-to-balance = кешбэк переведён на баланс

## Уведомления

cmd-notifications = Какие уведомления присылать
notifications-title =
    <b>🔔 Уведомления</b>
    Нажмите на вид, чтобы включить 🔔 или выключить 🔕. Сообщения о ваших деньгах (выводы, возвраты) приходят всегда.
notifications-button = 🔔 Уведомления
notifications-kind-cashback-available = Кешбэк стал доступен
notifications-kind-order-reminder = Напоминание подтвердить получение
notifications-kind-gift-expired = Неполученный подарок вернулся

# Чат операторов: сообщение, которое не дошло до человека.
ops-undelivered = ⚠️ Не доставлено: пользователь { $name } (id { $user_id }) заблокировал бота. Сообщение уйдёт, когда он снова нажмёт /start.

## Мини-приложение

cmd-app = Кошелёк в приложении
app-open = Ваш кошелёк в приложении: баланс и сертификаты, история с графиком, кешбэк и заказы.
app-open-button = 📱 Открыть кошелёк
app-not-set-up = Приложение для этого бота ещё не настроено: всё то же самое можно сделать в чате.
app-menu-button = Кошелёк
webapp-title = Giftwallet
webapp-tab-overview = Обзор
webapp-tab-history = История
webapp-tab-cashback = Кешбэк
webapp-tab-orders = Заказы
webapp-balance = Баланс сертификатов
webapp-cashback = Кешбэк
webapp-available = Доступно
webapp-on-hold = На удержании
webapp-pending = Ожидает
webapp-next-release = Следующее начисление
webapp-certificates = Сертификаты
webapp-certificates-empty = Сертификатов пока нет. Купить можно в чате: Баланс → Купить.
webapp-chart = Баланс во времени
webapp-chart-empty = График появится после первого изменения баланса.
webapp-history-empty = Движений денег пока не было.
webapp-cashback-empty = Кешбэка пока нет. Сертификаты приносят его сразу, товары — после подтверждения получения.
webapp-orders-empty = Заказов пока нет.
webapp-older = Раньше
webapp-more = Ещё
webapp-loading = Загрузка…
webapp-open-in-telegram = Откройте эту страницу из бота: кнопкой меню или командой /app.
webapp-session-ended = Сессия закончилась. Закройте приложение и откройте его из бота снова.
webapp-failed = Что-то пошло не так. Попробуйте ещё раз чуть позже.
webapp-retry = Повторить
webapp-pay = Оплатить
webapp-confirm-title = Подтвердите оплату
webapp-password-label = Платёжный пароль
webapp-password-hint = Тот, что вы задали в чате; никогда не пароль от Telegram.
webapp-confirm = Подтвердить
webapp-cancel = Отмена
webapp-confirm-biometric = Подтвердить биометрией
webapp-enroll = В следующий раз подтверждать биометрией на этом устройстве
webapp-biometric-reason = Подтвердите оплату с баланса Giftwallet
webapp-biometric-denied = Биометрия не подтвердила оплату. Деньги не списаны.
webapp-too-many = Слишком много попыток подряд. Подождите несколько секунд.
webapp-move-title = Кешбэк на баланс
webapp-withdraw-title = Кешбэк на карту •••• { $last4 }
webapp-gift-title = Подарочный сертификат с вашего баланса
notice-app-confirmed = 📱 Подтверждено в приложении: { $operation ->
        [order_pay] заказ №{ $ref } оплачен
        [cashback_move] кешбэк переведён на баланс
        [cashback_withdraw] запрошен вывод кешбэка
       *[other] подарочный сертификат с баланса
    }, { $amount }.
    Это были не вы? Смените платёжный пароль в разделе 🔐 Безопасность.
webapp-done-order-pay = Оплачено. Магазин получил заказ.
webapp-done-cashback-move = Готово: кешбэк на вашем балансе.
webapp-done-cashback-withdraw = Заявка принята: операторы переведут деньги на карту, вы получите уведомление.
webapp-done-gift-from-balance = Подарок готов: поделитесь ссылкой.
webapp-move = Перевести на баланс
webapp-withdraw = Вывести на карту
webapp-withdraw-card = Карта
webapp-no-cards = Чтобы вывести деньги, добавьте карту в чате: /cards.
webapp-gift = Подарок с баланса
webapp-gift-amount = Сумма
webapp-gift-note = Подпись (необязательно)
webapp-gift-give = Сделать подарок
webapp-share = Поделиться
webapp-copy = Скопировать ссылку
webapp-gift-until = если его не заберут, он вернётся к вам после
webapp-shared = Отправлено: подарок получит тот, кто первым откроет карточку.
webapp-csv = ⬇️ Скачать CSV
webapp-source-bought = куплен
webapp-source-gift = подарок
webapp-source-refund = возврат
webapp-source-cashback = из кешбэка
webapp-certificate-left = { $remaining } из { $nominal }
webapp-live-certificates = { $count ->
    [one] { $count } сертификат с остатком
    [few] { $count } сертификата с остатком
   *[other] { $count } сертификатов с остатком
}
