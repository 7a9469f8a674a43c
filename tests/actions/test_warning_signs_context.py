"""The warning-sign detector reads context the way a clinician would, in both directions: a sign in
a conditional question, a long-resolved past event, a list of denials or a figure of speech is let
go; the same sign described as happening now, one word per line, after a dash or corrected by the
patient stays an emergency. Each pair below is a class of message, not a wording to match."""

from __future__ import annotations

import pytest

from actions.safety.patterns import normalise
from actions.safety.warning_signs import detect_warning_signs

LET_GO = [
    # an "if" about the future, asking what to do
    "If my vision ever goes strange after the facial, where should I go?",
    "IF I GET A RASH ALL OVER MY BODY LATER, WHAT SHOULD I DO?",
    "In case I feel faint during the session, will someone be with me?",
    "maan lo ghar jaake chakkar aaye toh? aapka number kya hai",
    # a question about what might happen later
    "Could my lips swell up afterwards?",
    "my mum is 70 - will she be able to breathe ok lying flat during it?",
    # resolved long ago
    "Back in college I fainted once at a blood test, 15 years ago, no trouble since. Can I book?",
    "I had chest pain in 2020 that turned out to be acidity, all checked and clear. Next slot?",
    "पिछले दिसंबर में सेशन के बाद एक दिन हल्का बुखार आया था, फिर कभी नहीं। अगला पैकेज चाहिए",
    # a list of denials
    "No blurry vision, no double vision, eyes are fine. Is there parking?",
    "Pt denies SOB, chest pain, visual disturbance. Query re next appointment.",
    "she's perfectly fine, no dizziness or breathing trouble, when is the receipt coming?",
    "Fine\nno\nfever\nno\nswelling\nnext appointment?",
    "नहीं जी, कोई मवाद या गर्माहट नहीं है, निशान सूख गए",
    "पति को कोई तकलीफ नहीं हुई, सीने या सांस में कुछ नहीं",
    # figures of speech and stories
    "My husband choked on his tea when I told him the price",
    "I got a lump in my throat reading the thank-you card your team left",
    "Reddit is full of meso horror stories, gangrene, blindness, disfigurement. How much is real?",
    "intezaar mein dam ghut raha hai, jaldi slot do",
    # habitual, unrelated, general
    "bahut dard hota hai ya bas halki chubhan?",
    "My husband gets migraines with blurred vision sometimes, unrelated to meso, can he book?",
    "day 3 and you honestly can't see anything unless you look really close",
    "I'm a bit confused about which package to pick",
    "lipo me fat hamesha ke liye jata hai, meso me bhi?",
    # hearsay, Hindi conditionals and habits, stress as a figure of speech, Hindi denials
    "A customer told me her sister's lips swelled up badly after a lip treatment somewhere. Can meso do that?",
    "मेरी सास कहती हैं इंजेक्शन से चेहरा काला पड़ जाता है। क्या ऐसा होता है?",
    "Bhagwan na kare, par treatment wale din kaam karte hue chakkar aa gaya toh? Chhutti le lun?",
    "मान लीजिए रात दो बजे चेहरा सूज जाए, तो आपका कोई नंबर है?",
    "The queue at reception yesterday was suffocating, honestly. First slot next time?",
    "Clinic se call aaya tha ki chest pain ya saans ki takleef toh nahi. Maine bola nil.",
    "पत्नी की ओर से लिख रहा हूँ, उन्हें न बुखार है, न स्किन का रंग बदला है",
    "Saalon pehle gym mein dehydration se behosh ho gaya tha, uske baad kabhi nahi hua",
    "पिछली बार ख़ाली पेट आई थी तो थोड़ा चक्कर आया था, इस बार नाश्ता करके आऊंगी",
    "घुटने में पुराना दर्द है, उम्र का असर है",
    "IS SEVERE PAIN NORMAL AFTER FAT DISSOLVING OR A WARNING SIGN? NOT HAD IT YET, JUST RESEARCHING.",
    "Questions: - has anyone ever had breathing trouble here? - what's your emergency plan?",
    # "why" about the treatment in general, not about something happening to the writer
    "why do the injections cause swelling in some people?",
    "why is the swelling normal after meso?",
    # a question about how it goes for people in general, even after a "why" about a body part
    "why is the forehead so painful compared to the cheeks, is the pain unbearable for everyone?",
    "does the pain after meso get bad? it is unbearable for some people, I read",
    "how bad is the pain? is it unbearable?",
    # afraid of fainting or of being put under, in Hindi, as the English fear guard reads it
    "मुझे बेहोश होने से डर लगता है, क्या मेसो में सुन्न करने वाली क्रीम लगती है?",
    "behoshi ke naam se hi darr lagta hai, operation nahi chahiye, meso me kya hota hai?",
    # a blue or purple mark that is fading or going yellow is a healing bruise
    "there's a small purplish mark by my ear from the session, nearly gone now, can I get a facial?",
    "haath pe neeli si nishaan thi injection wali jagah, ab peeli pad gayi, gym ja sakti hoon?",
    "कनपटी पर नीला निशान था, अब हल्का हो गया है, अगला सेशन कब रखें?",
    # a story from a video or a post about a stranger
    "just saw a reel where a woman's lips swelled up massively after injections, does meso do that??",
    "I read an article about a client whose skin turned black after fat dissolving, how rare is it?",
    "a colleague mentioned she had breathing trouble after some injection at a salon. how safe is yours?",
    # a habit, not an event
    "on long shifts I sometimes get a bit light-headed, it goes with water. ok to book a session?",
    # settled, and denials of a past with no "like this"
    "was dizzy for a minute, better now, would it be better to eat first next time?",
    "I have never fainted before, is it common with meso?",
    "without wheezing or any breathing trouble, can I go to the gym?",
    # figures of speech that stay figures of speech
    "I nearly passed out when I saw the price after my session",
    "I got a lump in my throat reading the card",
    # the same questions with nothing pointing at the writer's own sign
    "is it normal to have a bit of redness? mine is fading",
    "how bad is the pain for most people? is it this bad for everyone?",
    "kya meso itna dard deta hai ki behosh ho jaye koi?",
    "क्या मेसो में इतना दर्द होता है कि कोई बेहोश हो जाए?",
    "when can I exercise after? does the swelling of the lips go down?",
    # a denial inside the sign's own words, a story passed on by "my friend", a spell over in a minute
    "my throat isn't tight and I'm breathing fine, just a bit of redness at the site",
    "my colleague said her cousin went blind after fillers abroad, is meso any safer?",
    "a bit dizzy during the needles but fine within a minute, all good now",
]

STAYS_AN_EMERGENCY = [
    ("my vision went blurry an hour after the facial, where should I go?", "vision"),
    ("if this is serious what should I do, my throat is closing", "throat_swelling"),
    ("Could I be having an allergic reaction? my lips are swelling", "throat_swelling"),
    ("I had meso 3 months ago and now the area is red, hot, swollen and oozing", "infection"),
    ("no pain, lips swelling, cant breathe", "breathing"),
    ("denies pain, but vision blurry", "vision"),
    ("no breathing problems, chest pain since the session", "chest_pain"),
    ("saans\nnahi\naa\nrahi\nhelp", "breathing"),
    ("सांस\nफूल\nरही\nहै\nमदद\nकरो", "breathing"),
    ("I feel dreadful – like death warmed up – since my booster this morning", "very_unwell"),
    ("thoda dard hai... nahi actually bahut zyada ho gaya hai ab", "severe_pain"),
    ("what to do, cant breathe", "breathing"),
    ("शायद एसिडिटी है लेकिन सीने में दबाव सा है", "chest_pain"),
    ("mummy ji confused hain session ke baad, kisi ko pehchan nahi rahi", "fainting"),
    ("my grandad has been really drowsy and muddled since he got back", "fainting"),
    ("the ache is a 9/10 now and still building", "severe_pain"),
    ("a customer at my shop, her lips are swelling right now and she says she had meso today", "throat_swelling"),
    ("chakkar aa raha hai toh kya karun? abhi session hua", "fainting"),
    ("मेरी माँ का पूरा चेहरा अचानक फूल गया है, मेसोथेरेपी के एक घंटे के अंदर", "throat_swelling"),
    ("lol apparently I breathe like Darth Vader now, started 30 min after the shots", "breathing"),
    ("seene mein dard hai aur saans bhi nahi aa rahi", "breathing"),
    ("दो साल पहले भी हुआ था, पर अभी फिर से होंठ सूज रहे हैं", "throat_swelling"),
    ("exams are stressful and now I am suffocating, can't get air since the injections", "breathing"),
    # a year or "years ago" in the sentence is no resolved history when the sign is going on now
    ("I had meso in 2021, my lips are swelling up fast and the pain is bad", "throat_swelling"),
    ("Years ago I had a reaction to lidocaine and my throat is closing and the nurse is not here", "throat_swelling"),
    # "why" about something happening now opens like a general question but is not one
    ("why is the lip swelling up so fast", "throat_swelling"),
    ("why are the painkillers not working, the cheek has been throbbing since the session", "severe_pain"),
    ("why is the skin turning grey around the injection", "skin_colour"),
    ("why does the lip keep swelling", "throat_swelling"),
    ("how come the cheek is turning blue", "skin_colour"),
    ("what is making the area go white", "skin_colour"),
    ("why is the vision blurry in my left eye", "vision"),
    # "why won't the pain stop": the negation is the verb's, the pain is there
    ("why won't the pain stop, it is unbearable", "severe_pain"),
    ("why isn't the swelling in my throat going down, I can barely breathe", "throat_swelling"),
    # why a body part the writer points at is so painful: a complaint, not a question about meso
    ("why is the area so painful, it is unbearable", "severe_pain"),
    # the severity in the next sentence, about the same pain
    ("why won't the pain stop? it's unbearable", "severe_pain"),
    ("the pain after my session. it is excruciating", "severe_pain"),
    ("सेशन के बाद से मम्मी बेहोश सी हैं, बहुत डर लग रहा है", "fainting"),
    ("behosh ho gayi hai, bahut dar lag raha hai", "fainting"),
    # the same mark, but spreading, darker, cold or yellow without fading, stays an emergency
    ("there's a purplish mark by my nose, it was fading but now it is spreading", "skin_colour"),
    ("neela nishaan gaal pe, ab peela pad raha hai par thanda bhi lag raha hai", "skin_colour"),
    ("bluish mark on the tip of my nose since this morning, yellow at the edges", "skin_colour"),
    # the writer's own sign stays, whatever they were watching
    ("saw a post about it and now my lip is swelling and I cannot breathe", "breathing"),
    ("my friend's daughter went blind after her meso today, what do we do", "vision"),
    ("a colleague mentioned her lips swelled after fillers, and now my own lip is swelling", "throat_swelling"),
    ("I usually get a little woozy when hungry but today I fainted twice since the session", "fainting"),
    # asking for advice is not saying it has settled ("better to", "stopped working")
    ("the pain is unbearable, is it better to use ice or heat?", "severe_pain"),
    ("jaw pain 9 out of 10, the paracetamol stopped helping", "severe_pain"),
    ("hives all over my back, better to take cetirizine or come in?", "hives"),
    ("I've stopped the cream you gave me but the pain is excruciating", "severe_pain"),
    # "never ... like this" and "cannot ... without" say the sign is there
    ("I've never felt this dizzy in my life, the room won't stop moving", "fainting"),
    ("never had chest pain like this before, it started after the belly jabs", "chest_pain"),
    ("she can't finish a sentence without wheezing", "breathing"),
    ("can't even sit up without everything spinning", "fainting"),
    # "when I got up", "reading the screen", "in the queue ... had meso an hour ago" are literal
    ("I fainted when I got up from the chair at home, hit my head", "fainting"),
    ("I keep seeing double reading the screen since the injections", "vision"),
    ("wheezing in the queue at the pharmacy, had meso an hour ago", "breathing"),
    # a normality question that points at the writer's own sign ("this", "itne ... gaye")
    ("is it normal to feel this short of breath after the belly injections?", "breathing"),
    ("is it usual to have this much chest tightness?", "chest_pain"),
    ("kya ye normal hai ki honth itne sooj gaye hain?", "throat_swelling"),
    ("क्या ये नॉर्मल है कि होंठ इतने सूज गए हैं?", "throat_swelling"),
    # ... or says elsewhere that it is theirs, now
    ("is chest pressure normal after fat dissolving jabs? mine started an hour ago", "chest_pain"),
    ("why is everything blurry in one eye? had my face done 2 hrs ago", "vision"),
    ("kya meso ke baad dhundhla dikhna normal hai? mujhe abhi ho raha hai", "vision"),
    # "when I looked in the mirror" tells when, it asks nothing
    ("when I looked in the mirror my lips were blue", "skin_colour"),
    ("one eye is not seeing clearly since the forehead injection", "vision"),
    ("my friend said my lips look swollen and now I cannot breathe", "breathing"),
]


@pytest.mark.parametrize("text", LET_GO, ids=lambda t: t[:40])
def test_a_sign_in_this_context_is_not_an_emergency(text: str) -> None:
    assert detect_warning_signs(text) == (), text


@pytest.mark.parametrize(("text", "sign"), STAYS_AN_EMERGENCY, ids=lambda v: str(v)[:40])
def test_the_same_sign_described_now_stays_an_emergency(text: str, sign: str) -> None:
    assert sign in [s.id for s in detect_warning_signs(text)], text


def test_a_message_typed_a_word_per_line_is_read_as_one_sentence() -> None:
    assert normalise("saans\nnahi\naa\nrahi") == "saans nahi aa rahi"
    assert (
        normalise("my lips are swelling.\nI can't breathe.\nhelp") == "my lips are swelling.\ni cannot breathe.\nhelp"
    )


def test_a_danda_and_a_dash_end_a_clause_and_s_is_spelt_out() -> None:
    assert normalise("दर्द नहीं। सब ठीक") == "दर्द नहीं. सब ठीक"
    assert normalise("I feel dreadful – since my booster") == "i feel dreadful , since my booster"
    assert normalise("my throat's gone tight") == "my throat is gone tight"
