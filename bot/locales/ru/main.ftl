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
coming-soon = Этот раздел скоро появится.

## Баланс

balance-text =
    <b>💰 Ваш баланс</b>

    Сертификаты: <b>{ $balance }</b>
    Кешбэк доступен: <b>{ $available }</b>
    Кешбэк в ожидании: { $pending }
balance-refresh = 🔄 Обновить
inline-balance-title = Баланс: { $balance }
inline-balance-description = Кешбэк доступен { $available }, в ожидании { $pending }

## Помощь, язык, отмена, непонятный ввод

help-text =
    <b>Giftwallet</b> хранит ваши подарочные сертификаты, заказы и кешбэк в одном месте.

    /start — главное меню
    /balance — баланс и кешбэк
    /language — выбрать язык
    /cancel — прервать текущий шаг
    /help — эта справка

    Деньги никогда не списываются без вашего подтверждения.
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
error-locked = 🔒 Слишком много неудачных попыток. Оплата и восстановление пароля заблокированы до { $until }. Если вы забыли пароль и ответы, напишите в /support.
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
question-first-pet = Как звали вашего первого питомца?
question-birth-city = В каком городе вы родились?
question-first-school = Номер или название вашей первой школы?
question-first-teacher = Фамилия вашего первого учителя?
question-favorite-book = Ваша любимая книга в детстве?
question-childhood-friend = Как зовут вашего лучшего друга детства?
question-first-car = Марка вашего первого автомобиля?
question-childhood-street = На какой улице вы жили в детстве?
question-parents-met = В каком городе познакомились ваши родители?
