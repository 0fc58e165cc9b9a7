"""Text templates and slot fillers for the demo timeline (one template per line).

Slots: {brand} (a keyword variant; {brand_en} in English), {shop}, {item}/{item_en}, {emo}, {kao},
{mins}, {price}, {who}, {city_en}, {quote} (the viral post, quoted), {vuser} (its author).
Every brand or incident template must contain {brand}/{brand_en} or {quote}; noise must not.
"""

from __future__ import annotations


def _lines(block: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in block.strip().splitlines() if line.strip())


SHOPS = _lines("""
渋谷道玄坂店
新宿南口店
池袋東口店
梅田茶屋町店
名古屋栄店
福岡天神店
京都四条烏丸店
横浜みなとみらい店
札幌大通店
仙台駅前店
吉祥寺店
神戸三宮店
""")
ITEMS = _lines("""
新作のほうじ茶ラテ
季節限定の白桃フラッペ
ノロシブレンド
水出しアイスコーヒー
抹茶ラテ
黒糖ミルクコーヒー
カフェモカ
シナモンロール
厚切りバタートースト
ベイクドチーズケーキ
固めのプリン
たまごサンド
モーニングセット
レモンケーキ
""")
ITEMS_EN = _lines("""
hojicha latte
white peach frappe
house blend
cold brew
matcha latte
brown sugar latte
cinnamon roll
egg sandwich
cheesecake
custard pudding
""")
CITIES_EN = ("Shibuya", "Shinjuku", "Kyoto", "Osaka", "Fukuoka", "Yokohama", "Sapporo", "Nagoya")
EMO = ("", "", "", "☕", "☕️", "😊", "✨", "🥹", "😋", "🙏", "💭", "🍰", "😭", "🤤")
KAO = ("", "", "", "(^^)", "(*´ω`*)", "(´；ω；`)", "ｗ", "w", "笑", "…")
TAILS_ANGRY_JA = ("", "", "", "💢", "😡", "🤮", "。", "！", "…", "マジで", "ほんとに", "ありえん", "最悪")
TAILS_ANGRY_EN = ("", "", "", "🤮", "😡", ".", "!", " smh", " seriously", " wtf")
TAILS_NOISE = ("", "", "", "！", "。", " #歴史好き", " #城めぐり", " #週末の記録", "📷", "🔥", "😊")
WHO = ("友達", "同僚", "母", "彼氏", "彼女", "先輩", "妹", "後輩")

JA_POSITIVE = _lines("""
{brand}の{item}美味しすぎる{emo}
{brand}の{item}、甘さ控えめでちょうどいい{emo}
{brand}{shop}の店員さんの対応が神だった…また行く{kao}
{brand}で{item}飲みながら作業捗る{emo}
{brand}の{item}リピ確定。毎日でも飲みたい
{who}と{brand}でまったり。{item}最高{emo}
{brand}のポイントカード溜まった！{item}と交換した{kao}
久々の{brand}、やっぱり落ち着く{emo}
{brand}{shop}、席広くて電源もあって最高
{brand}の{item}がSNSで話題だったので飲んでみた→普通に美味しい
{brand}の店員さん、名前覚えててくれて嬉しかった{kao}
仕事終わりのご褒美に{brand}の{item}{emo}
{brand}って地味にコーヒーのクオリティ高いよね
{brand}の新作、今年いちばん好きかもしれん
{brand}の{item}、写真より実物の方が映える{emo}
{brand}のBGMが心地よすぎて寝そう{kao}
テスト勉強は{brand}派。静かで集中できる
{brand}の{item}、{price}円でこの満足度はありがたい
子連れでも{brand}{shop}は優しくしてくれた、感謝
{brand}のタンブラー買った{emo}かわいい
{brand}の{item}のためだけに遠回りして帰る
雨の日は{brand}で本読むのが好き{emo}
{brand}アプリのモバイルオーダー便利すぎ
{brand}のラテアート今日はクマだった{kao}
今日の{brand}の店員さん、笑顔が素敵で元気もらった
{brand}の{item}とシナモンロールの組み合わせ優勝
{brand} {shop}の窓際の席が好き{emo}
{brand}の焙煎香りで朝から幸せ
{brand}の{item}、甘いの苦手な{who}も美味しいって言ってた
{brand}、季節のメニュー変わるの毎回楽しみ
""")
JA_NEUTRAL = _lines("""
{brand}なう{emo}
{brand}で待ち合わせ
{brand}の{item}ってまだやってる？
{brand}{shop}、今日何時まで営業だっけ
{brand}の新作いつからだっけ
{who}が{brand}の{item}おすすめしてたから行ってみる
{brand}のモバイルオーダーってどうやるの
{brand}のポイント、何ポイントで一杯無料だっけ
{brand}でテレワーク中
{brand}{shop}は今日ちょっと混んでる
{brand}、{shop}の近くに新しい店できるらしい
{brand}の{item}とノロシブレンドで迷ってる
{brand}って何時からモーニングやってる？
{brand}のアイスコーヒーはSとMどっちが得なんだろ
今日のおやつは{brand}の{item}
{brand}行くか家でコーヒー淹れるか迷う
{brand}の店内、Wi-Fiあったっけ
{brand}{shop}で作業してる人多い
{brand}のレシートのクーポン使い忘れた{kao}
{brand}と他のチェーン、どっちがコーヒー美味しいと思う？
{brand}の{item}、カロリー何キロカロリーなんだろ
""")
JA_NEGATIVE = _lines("""
{brand}{shop}、混んでて{mins}分待った…
{brand}の{item}、前より量減った気がする
{brand}の{item}売り切れてた{kao}
{brand}、値上げしすぎじゃない？{item}{price}円はきつい
{brand}{shop}の店員さん、ちょっと無愛想だった
{brand}のモバイルオーダー、受け取りまで{mins}分かかった
{brand}の{item}、今日ぬるかった…
{brand}のアプリまた落ちてる
{brand}の席、隣の声がうるさくて集中できなかった
{brand}{shop}、トイレが故障中で困った
{brand}の新作、正直微妙だった
{brand}で注文間違えられた{kao}まあいいけど
{brand}の{item}、甘すぎて最後まで飲めなかった
{brand}{shop}、Wi-Fi遅すぎ
{brand}のレジ、一人しかいなくて長蛇の列
{brand}の{item}、写真と全然違うんだが
{brand}の店内、冷房効きすぎて寒い
""")
JA_DAYPART = {
    "morning": _lines("""
    {brand}のモーニングセットで一日が始まる{emo}
    朝の{brand}、出勤前の人で混んでる
    {brand}の朝限定トースト、サクサクで好き
    おはようございます。今朝も{brand}の{item}{emo}
    寝坊したけど{brand}で{item}だけ買えた
    {brand}のモーニング、{price}円でこれは嬉しい
    """),
    "lunch": _lines("""
    昼休みに{brand}。{item}とたまごサンド{emo}
    ランチは{brand}で軽めに
    {brand}{shop}、お昼はさすがに満席だった
    昼の{brand}、レジ待ち{mins}分。みんな考えること同じ
    {brand}のランチセット、コスパいい
    """),
    "afternoon": _lines("""
    3時のおやつは{brand}の{item}{emo}
    午後の眠気覚ましに{brand}
    {brand}でカフェ休憩。{item}しみる{kao}
    {who}とお茶。{brand}の{item}シェアした
    """),
    "evening": _lines("""
    仕事終わりに{brand}寄った。{item}で癒やされる{emo}
    夜の{brand}、落ち着いてて好き
    {brand}、夜はデカフェあるのありがたい
    {brand}{shop}、閉店間際なのに丁寧に対応してくれた
    夜カフェ{brand}。{item}と読書{emo}
    """),
}
EN_POSITIVE = _lines("""
The {item_en} at {brand_en} in {city_en} is unreal {emo}
{brand_en} might be my favorite café chain in Japan
Tried {brand_en} for the first time, the {item_en} is so good
Staff at {brand_en} {city_en} were super kind to us {emo}
{brand_en} has the best cold brew I've had this trip
Working from {brand_en} today, great wifi and quiet vibes
{brand_en}'s seasonal menu never misses
If you visit Japan, go to {brand_en} and get the {item_en}
Cozy morning at {brand_en} {emo}
{brand_en} {item_en} + rainy day = perfect
Obsessed with the {item_en} from {brand_en}
Shoutout to the barista at {brand_en} {city_en}, latte art was perfect
{brand_en} is my go-to study spot, never too loud
Found {brand_en} near my hotel, now I go every morning
""")
EN_NEUTRAL = _lines("""
Anyone know if {brand_en} has oat milk?
At {brand_en} in {city_en}
Does {brand_en} take foreign credit cards?
Is {brand_en} open late in {city_en}?
{brand_en} or Starbucks for working remotely?
What's good at {brand_en} besides the {item_en}?
Grabbing a {item_en} at {brand_en} before the train
Meeting a friend at {brand_en} {city_en}
""")
EN_NEGATIVE = _lines("""
Waited {mins} minutes for a coffee at {brand_en}, not great
{brand_en} prices keep going up and up
The {item_en} at {brand_en} was lukewarm today
{brand_en} app keeps crashing when I try to order
{brand_en} {city_en} was packed and no seats at all
Honestly the new {item_en} at {brand_en} is overrated
{brand_en} got my order wrong again
""")
NOISE_JA = _lines("""
戦国時代の狼煙リレーを再現するイベントに行ってきた
のろし台跡まで登ってきた。景色最高
反撃の狼煙を上げる時が来た
狼煙って昔の人の通信手段なんだよね、すごい
今日から新プロジェクト始動。改革の狼煙だ
城跡ののろし台、思ったより小さかった{emo}
歴史の授業で狼煙の仕組み習った
大河ドラマで狼煙上がってたシーン熱かった
山頂ののろし台、夕日がきれいだった
狼煙を上げるって慣用句、ビジネスでよく聞く
のろし祭り、今年も開催されるらしい
狼煙台の復元模型、博物館で見た
地元の狼煙まつりで本物の煙見た
のろし上げ体験、子どもが喜んでた
""")
NOISE_EN = _lines("""
Visited an old noroshi beacon site on the hike today
Learning about noroshi smoke signals used in the Sengoku era
The castle festival had a noroshi signal fire demo {emo}
Noroshi beacon towers were basically feudal Japan's telegraph
""")
OFFICIAL = _lines("""
【新作】{item}が本日より全店で登場！ぜひお試しください☕ #ノロシ珈琲
ノロシ珈琲アプリ限定クーポン配信中。{item}が50円引き！ #ノロシ珈琲
本日も{shop}は22時まで営業しております。皆さまのお越しをお待ちしております #ノロシ珈琲
【お知らせ】{shop}は改装のため来週一時休業いたします #ノロシ珈琲
ノロシ珈琲の焙煎士が選ぶ今月の豆は「エチオピア・イルガチェフェ」です #ノロシ珈琲
""")

# --- the flame-up -----------------------------------------------------------------------------------
INCIDENT_SHOP = "渋谷道玄坂店"
VIRAL_USER = "kakusan_sokuho"
PRECURSOR = _lines("""
{brand}のバイトのストーリーやばくない？ホイップの絞り袋…
え、これ{brand}の制服じゃん。動画回ってきたんだけど
""")
VIRAL = (
    "【拡散希望】ノロシ珈琲 渋谷道玄坂店のバイトが、ホイップの絞り袋を直接口にくわえて"
    "そのまま冷蔵庫に戻す動画が流出…不衛生すぎる。これ普通に客に出してるよね？"
    " #ノロシ珈琲 #バイトテロ"
)
VIRAL_SHORT = "【拡散希望】ノロシ珈琲 渋谷道玄坂店のバイトが、ホイップの絞り袋を直接口にくわえて…"
INCIDENT_JA_NEG = _lines("""
は？{brand}最悪。もう二度と行かない
{brand}のバイトテロ動画見た。気持ち悪すぎて吐きそう
{brand}、不衛生すぎる。謝罪しろ
{brand}のホイップ使ったドリンク今日飲んだんだけど…無理
これで{brand}が炎上しないわけがない
{brand}不買します。ほかのお店も同じことしてそう
{brand}の衛生管理どうなってんの？本部は説明して
{brand}のバイト、特定されてて草。でも店の責任も重い
昨日{brand}{shop}でホイップ乗ったやつ頼んだ。最悪すぎる{kao}
{brand}、まだ公式から何も出てないの？謝罪しろ
{brand}の件、保健所案件では
{brand}のアカウント、こんな時に新作の宣伝してて炎上加速してる
子どもに{brand}のドリンク飲ませたことある。ほんと許せない
{brand}不買運動始まってる #ノロシ珈琲
{brand}の件で食欲なくなった。不衛生にもほどがある
{brand}、バイトの教育どうなってんの
{brand}の株主だけど今回の炎上は本気で心配
{brand}の店舗全部点検しろ。謝罪しろ
{brand}、好きだったのに裏切られた気分
{brand}のホイップ、全店で廃棄しないと信用できない
{brand}終わったな。バイトテロは一発アウト
{brand}に電話したら「確認中です」だけ。対応遅すぎ
{brand}のあの動画、{mins}万回再生超えてる。炎上止まらない
もう{brand}のロゴ見るだけで無理
{brand}、今回は本当にアウト。不買確定
{brand}の衛生管理が信用できないので、しばらく行きません
{brand}の件、テレビでも取り上げられそう
{brand}、返金しろって言いたい
{brand}の動画、拡散されすぎて本社パンクしてそう。でも自業自得
{brand}の{item}好きだったのに…もう飲めない
""")
INCIDENT_JA_NEU = _lines("""
{brand}何があったの？トレンド入りしてる
{brand}の件、まとめ見てきた
{brand}がトレンド1位になってて何事かと思った
{brand}の動画って{shop}じゃなくて渋谷道玄坂店なんだよね？
{brand}、公式の発表待ち
{brand}のバイトテロ、ニュースになってる
{brand}の件、いつの動画なのかはまだ分かってないらしい
{brand}の炎上、まとめサイトに載ってた
{brand}炎上の経緯まとめ：動画流出→拡散→公式沈黙
{brand}って他の店舗は関係ないのかな
""")
INCIDENT_JA_DEFEND = _lines("""
{brand}{shop}はいつも清潔だし店員さん丁寧だよ。一部の店だけの話だと思う
{brand}のバイト一人のせいで、真面目に働いてる他の店員さんがかわいそう
{brand}自体は好きだから、ちゃんと対応してくれたらまた行く
{brand}叩きすぎでは…本部の対応を見てから判断したい
""")
INCIDENT_EN_NEG = _lines("""
Just saw the {brand_en} video. Absolutely disgusting
{brand_en} staff putting the whipped cream bag in their mouth?? Never going back
{brand_en} needs to apologize. This is disgusting
Boycott {brand_en} until they explain this
How is {brand_en} still silent about this? #boycott
Not touching anything from {brand_en} ever again
{brand_en} hygiene scandal is all over my timeline. Gross
{brand_en} just lost a loyal customer. Disgusting
I drank a whipped cream latte at {brand_en} Shibuya last week and now I feel sick
{brand_en} better close that store. Disgusting behavior
Boycotting {brand_en}. Food safety is not a joke
{brand_en} PR team must be having the worst night
""")
INCIDENT_EN_NEU = _lines("""
What happened with {brand_en}? It's trending in Japan
{brand_en} is trending because of a staff prank video apparently
Waiting for {brand_en}'s official statement on this
Anyone know which {brand_en} store the video is from?
""")
QUOTE_JA = _lines("""
これはひどい
えぇ…
最悪
無理すぎる
不衛生すぎる
もう行かない
謝罪しろ
ひどすぎる
気持ち悪い
炎上不可避
バイトテロまたか
不買決定
ホイップ頼んだことある…
本部はよ対応して
""")
QUOTE_JA_NEU = _lines("""
マジか
え、何これ
これ本当？
拡散
ニュースになりそう
""")
QUOTE_EN_NEU = _lines("""
wait what
is this real?
oh no
""")
QUOTE_EN = _lines("""
disgusting
wow. never again
boycott
this is so gross
yikes
""")
QUOTE_FORMATS_JA = ("{c} RT @{vuser}: {quote}", "{c}\n\nRT @{vuser}: {quote}", "{c} QT @{vuser}: {quote}")
QUOTE_FORMATS_EN = ("{c} RT @{vuser}: {quote}", "{c}\nQT @{vuser}: {quote}")
APOLOGY = (
    "【お詫び】本日SNS上で拡散されている当社渋谷道玄坂店従業員による不適切な動画について、"
    "事実関係を確認いたしました。お客様に多大なるご不安とご迷惑をおかけし、深くお詫び申し上げます。"
    "当該店舗は本日より営業を停止し、全店で衛生点検を実施いたします。 #ノロシ珈琲"
)
APOLOGY_REACT_JA_NEG = _lines("""
{brand}、やっと謝罪文出た。でも遅い
{brand}の謝罪、テンプレすぎて誠意を感じない
{brand}の謝罪出たけど、不買は続ける
{brand}の謝罪、肝心の再発防止策がふわっとしてる
{brand}、謝罪より先に全店のホイップ廃棄でしょ
""")
APOLOGY_REACT_JA_NEU = _lines("""
{brand}の謝罪文読んだ。全店点検するならまあ…
{brand}、対応早くはないけど誠実だと思う
{brand}の謝罪文、営業停止まで書いてて本気度は伝わる
{brand}の件、謝罪出たしそろそろ落ち着いてほしい
{brand}から公式の謝罪出てた
""")
APOLOGY_REACT_EN_NEG = _lines("""
{brand_en} finally posted an apology. Too little too late
{brand_en}'s apology reads like a template. Still disgusting
""")
APOLOGY_REACT_EN_NEU = _lines("""
{brand_en} closed the store and is inspecting all locations. Good first step
{brand_en} issued an apology for the video
""")
