"""Warden's own written training exemplars for `violence`: calls to violence and hard negatives.

Written for Warden (not copied from any data set). Templates are filled deterministically
(seeded), so ``warden train`` is reproducible. Positives cover direct threats, calls/incitement,
normative calls ("X should be killed"), time/place plans, glorification of attacks and
dehumanising calls to remove a group. Negatives cover idioms, sports and gaming talk, news
reports, condemnation, counter-speech, quotes, negation, fiction/history and heated politics
without violence. HateCheck (the behavioural test) is never used to write or pick these.
"""
from __future__ import annotations

import random

GROUPS = [
    "immigrants", "muslims", "jews", "women", "gay people", "trans people", "black people", "refugees",
    "liberals", "conservatives", "republicans", "democrats", "cops", "politicians", "journalists",
    "the protesters", "those people", "christians", "feminists", "the migrants", "illegals", "antifa",
    "leftists", "communists", "landlords", "the rich", "asians", "mexicans", "catholics", "atheists",
    "the elites", "globalists", "boomers", "vaxxers", "the antivaxxers", "union workers", "the jannies",
    "hindus", "sikhs", "arabs", "gypsies", "disabled people", "lesbians", "the homeless",
]
DEHUMAN = ["vermin", "rats", "cockroaches", "parasites", "animals", "savages", "a plague", "a disease", "subhumans"]
PEOPLE = [
    "the mayor", "the senator", "that judge", "the governor", "that reporter", "my ex", "the ceo", "the president",
    "my landlord", "that teacher", "the referee", "the sheriff", "my boss", "that streamer", "the prime minister",
    "the school board", "the election officials", "the doctor at that clinic", "my neighbour",
]
VERB = [  # (base, past participle, third person)
    ("kill", "killed", "kills"), ("shoot", "shot", "shoots"), ("hang", "hanged", "hangs"), ("stab", "stabbed", "stabs"),
    ("lynch", "lynched", "lynches"), ("behead", "beheaded", "beheads"), ("burn alive", "burned alive", "burns alive"),
    ("execute", "executed", "executes"), ("slaughter", "slaughtered", "slaughters"),
    ("exterminate", "exterminated", "exterminates"), ("gas", "gassed", "gasses"),
    ("beat to death", "beaten to death", "beats to death"), ("murder", "murdered", "murders"),
    ("gun down", "gunned down", "guns down"), ("string up", "strung up", "strings up"),
    ("wipe out", "wiped out", "wipes out"), ("torture", "tortured", "tortures"), ("massacre", "massacred", "massacres"),
    ("blow up", "blown up", "blows up"), ("run over", "run over", "runs over"), ("firebomb", "firebombed", "firebombs"),
    ("put down", "put down", "puts down"), ("round up and shoot", "rounded up and shot", "rounds up and shoots"),
    ("bash the skulls of", "bashed in", "bashes the skulls of"), ("drown", "drowned", "drowns"),
    ("strangle", "strangled", "strangles"), ("poison", "poisoned", "poisons"), ("choke out", "choked out", "chokes out"),
    ("set fire to", "set on fire", "sets fire to"), ("break the necks of", "left with broken necks", "breaks the necks of"),
    ("cut the throats of", "left with cut throats", "cuts the throats of"), ("hurt", "hurt", "hurts"),
    ("smash the heads of", "smashed to pieces", "smashes the heads of"), ("eliminate", "eliminated", "eliminates"),
    ("erase", "erased", "erases"), ("crush the skulls of", "crushed", "crushes the skulls of"),
]
TIME = ["", "", " tonight", " tomorrow", " on saturday", " this weekend", " at dawn", " when they leave work",
        " after the game", " next week", " on election day", " on monday morning"]
PLACE = ["", "", " at the mosque", " at city hall", " at the school", " at their office", " outside the clinic",
         " at the march", " at the synagogue", " at the church", " at the pride parade", " at the courthouse",
         " at the border", " at their homes", " in the parking lot"]

POS_TEMPLATES = [
    "we should {v} {g}{time}", "someone needs to {v} {g}", "let's {v} {g}{place}{time}", "it's time to {v} {g}",
    "{g} must be {vpp}", "{g} deserve to be {vpp}", "{g} should all be {vpp}", "all {g} should be {vpp}{place}",
    "i will {v} {g}{time}", "i'm going to {v} {g}{place}", "i'm gonna {v} {p}{time}", "i want to {v} all {g}",
    "we will {v} {g}{time}{place}", "grab your guns, we {v} {g}{time}", "meet{place}{time} and {v} every one of {g}",
    "i hope someone {v3} {p}", "i hope someone {v3} {g}", "somebody should {v} {p}", "{p} needs to be {vpp}",
    "{p} should be {vpp}{time}", "kill all {g}", "death to {g}", "{g} need a bullet in the head",
    "the only good {g1} is a dead one", "line {g} up against a wall and shoot them", "{g} are {d}, {v} them all",
    "{g} are {d} and need to be exterminated", "cleanse this country of {g}, by force if needed",
    "{g} are {d}. wipe them off the face of the earth", "get rid of {g} for good, put them in camps and gas them",
    "the shooter who went after {g} is a hero, we need more like him", "that massacre{place} was a good start",
    "whoever attacked {g}{place} did god's work", "the bombing{place} was beautiful, do it again",
    "finish what he started, {v} the rest of {g}", "more {g} should end up dead like that",
    "i know where you live and i'm coming to {v} you", "you'll be dead by{time2}, i promise", "watch your back, i'll {v} you",
    "i'm bringing my gun{place}{time}, {g} will pay", "bring rope{time}, we {v} {p}", "string {g} up from the lampposts",
    "if {p} shows up{place} i will {v} them", "every last one of {g} should be {vpp}", "hunt down {g} and {v} them",
    "{g} have no right to live", "i'd love to watch {g} burn alive", "the day of the rope is coming for {g}",
    "go to their houses and {v} them", "arm yourselves and {v} {g}{time}", "no mercy, {v} {g}",
    "shoot {g} on sight", "{p} deserves a bullet", "someone put {p} in the ground already", "{v} {p}{place}",
    "we need to {v} {g} before they replace us", "take up arms and {v} {g}", "burn down {g2}'s homes with them inside",
    "i'm going to shoot up{place2}{time}", "planning to {v} as many {g} as i can{time}",
    "i want to end the lives of all {g}", "i'm going to make {g} suffer for this", "{g} will bleed{time}",
    "we'll make {g} pay in blood", "i will rip {p} apart with my bare hands", "{g} won't survive the night if i find them",
    "someone should slit the throats of {g}", "i'd happily put every one of {g} in the ground",
    "{g} should be made to suffer until they die", "{p} will not live to see next year, i'll make sure of it",
    "the world would be better if {g} were all dead, let's make it happen", "time to make {g} disappear permanently",
    "{g} need to be removed from this earth", "it would be an honour to take out {p}",
    "load up and go hunting for {g}{time}", "their blood will run in the streets{time}",
    "we need a final solution for {g}", "put {g} six feet under", "open season on {g}, no limits",
    "i'll end you and your whole family", "{g}? just dig a mass grave and fill it",
    "they should just execute {p} in public", "i pray someone assassinates {p}",
]
TIME2 = [" tonight", " friday", " the end of the week", " morning", " christmas"]
PLACE2 = [" the school", " the mall", " the mosque", " the synagogue", " the office", " the church", " the rally"]

NEG_TEMPLATES = [
    # idioms
    "i'd kill for a {food} right now", "i could murder a {food}", "this {thing} is killing me", "you killed it{time}!",
    "she absolutely slayed{time}", "that joke killed", "my feet are killing me", "i'm dying of laughter",
    "shoot me a text when you're free", "i'll shoot you an email{time}", "give it a shot", "we bombed that exam",
    "the show bombed at the box office", "my phone is blowing up", "she's a knockout", "let's beat the traffic",
    "just killing time before the flight", "kill the lights please", "kill two birds with one stone",
    "kill the process and restart the server", "this {food} is to die for", "i'm going to murder this workout",
    "we're going to crush it{time}", "over my dead body will i eat {food}", "my mom is going to kill me when she sees my grades",
    "he's killing it at work", "that outfit is killer", "i nearly died when she said that", "the comedian murdered the crowd",
    "i'll fight you for the last slice of pizza", "drop dead gorgeous", "that {thing} slaps", "shoot your shot",
    "we need to kill this bill in committee", "kill the music, the neighbours are complaining",
    "i'm going to strangle my printer", "the heat is murder today", "this traffic is killing me",
    # sports / gaming
    "we destroyed them {score}", "he got headshot in {game}", "finally killed the final boss in {game}",
    "i sniped three players in {game}", "our defense murdered their offense", "the striker shot from the edge of the box",
    "knockout in the third round", "we slaughtered them at football {score}", "nuked the enemy base in {game}",
    "the team got killed on the counter attack", "we'll kill them on saturday, go team!", "time to beat the {team}{time}",
    "he stabbed the ball into the net", "our pitcher is going to kill it{time}", "they executed the play perfectly",
    "in {game} you have to shoot the zombies in the head", "my {game} squad got wiped out again",
    # news
    "police said the suspect shot {n} people{place} on {day}", "{n} killed in bombing in {city}",
    "the man was charged with murder after the stabbing in {city}", "officials condemned the attack{place}",
    "the court sentenced the attacker to life in prison", "report: threats against election workers rose this year",
    "a gunman opened fire{place} in {city}, {n} dead", "the army shelled the city overnight, reports say",
    "the trial of the man accused of killing {n} {g} begins {day}", "investigators say the shooter posted a manifesto",
    "{n} arrested after riot{place}", "the senator received death threats, police are investigating",
    # condemnation / counter-speech / quotes / negation
    "calling for people to {v} {g} is disgusting", "anyone who wants to {v} {g} should be arrested",
    "violence against {g} is never acceptable", "i condemn the attack on {g}{place}",
    "threats like 'we will {v} {g}' have no place here", "we must protect {g} from people who want to {v} them",
    "he tweeted '{g} should all be {vpp}' and got banned. good.", "saying '{g} deserve to be {vpp}' is hateful",
    "stop saying {g} deserve to die", "reporting this account for saying '{v} all {g}'",
    "if you think {g} should be {vpp}, you're the problem", "no one deserves to be {vpp}, including {g}",
    "i would never {v} anyone", "nobody should {v} {g}", "{g} don't deserve to be {vpp}",
    "no one wants to {v} {g}, stop the fearmongering", "we should not {v} {g}, we should talk to them",
    "posts saying '{p} should be {vpp}' are a crime, report them", "the phrase 'death to {g}' is hate speech",
    "people who say '{g} are {d}' need to educate themselves", "it's horrifying that someone wrote 'kill all {g}'",
    "i don't want anyone hurt, not even {p}", "{g} are human beings and deserve safety",
    "the attack on {g} was a tragedy, my heart goes out to the families", "shooting {g} is never the answer",
    "they threatened to {v} {g} and we reported it to the police",
    # fiction / history
    "in the novel, the assassin kills the king", "the movie ends with the hero shooting the villain",
    "in 1944 the allies bombed the city", "macbeth murders duncan in act two", "my d&d character stabbed the goblin",
    "in the show the dragon burns the whole city", "the detective finds out the butler killed him",
    "chapter 3: the soldiers executed the prisoners at dawn", "history class today was about the massacre{place}",
    "the villain threatens to blow up the bridge in the film",
    # heated politics, no violence
    "{g} are ruining this country and need to be voted out", "i'm furious at {g}", "{g} are idiots",
    "fight for your rights at the ballot box", "we need to fight this bill", "crush them at the polls{time2}",
    "destroy their arguments with facts", "{p} is a liar and a fraud", "{p} should resign immediately",
    "{p} should be impeached", "lock up {p} for corruption, let the courts decide", "{g} are wrong about everything",
    "protest{place}{time}, peacefully", "march with us{time}, bring signs and water", "vote {g} out of office",
    "i can't stand {g}", "{g} deserve respect", "i love my {g} neighbours", "{g} are welcome here",
    "deport the corrupt politicians from power at the next election",
    "nobody should want to end anyone's life, {g} included", "saying you want {g} to suffer is vile",
    "i'd never hurt {g}, what a sick thing to suggest", "wishing death on {g} is not ok",
    "the article quotes a post that said '{g} will bleed'. chilling", "he was jailed for threatening to {v} {g}",
    "my grandpa survived the camps; never again for {g} or anyone", "honestly this {thing} will be the death of me",
    "i'm going to make this soup suffer, extra chilli", "we are going to bury them in the playoffs",
    "this deadline is going to be the end of me", "the prices at {team} games are murder", "rip to my diet",
    "the bill would end the lives of thousands of jobs, economists warn", "the hurricane killed {n} people in {city}",
    "the film is about a hitman hunting down his former bosses", "our cat murdered a mouse again",
    "this band is sick, they absolutely destroyed the stage", "i shot some great photos at the pride parade",
    "the senator's campaign is dead in the water", "we took out the enemy sniper and won the round",
    "{g} face threats every day, we need better protection", "threatening {g} online is a crime, report it",
]
FOOD = ["coffee", "pizza", "burger", "beer", "taco", "nap", "cup of tea", "donut", "steak", "ice cream"]
THING = ["heat", "song", "class", "exam", "commute", "workout", "deadline", "humidity", "hangover"]
GAME = ["valorant", "fortnite", "call of duty", "elden ring", "cs2", "apex", "minecraft", "overwatch", "halo"]
SCORE = ["5-0", "4-1", "3-0", "42-7", "100-60", "2-0"]
TEAM = ["lakers", "yankees", "eagles", "rangers", "united", "city", "sharks"]
CITY = ["kabul", "paris", "chicago", "nairobi", "manila", "london", "dallas", "mumbai", "lagos"]
DAY = ["monday", "tuesday", "friday", "sunday", "last week"]


def _fill(tpl: str, rng: random.Random, **extra: str) -> str:
    v = rng.choice(VERB)
    g = rng.choice(GROUPS)
    return tpl.format(
        **extra, v=v[0], vpp=v[1], v3=v[2], g=g, g1=g.rstrip("s") if not g.startswith("the ") else g[4:].rstrip("s"),
        g2=g, p=rng.choice(PEOPLE), d=rng.choice(DEHUMAN), time=rng.choice(TIME), place=rng.choice(PLACE),
        time2=rng.choice(TIME2), place2=rng.choice(PLACE2), food=rng.choice(FOOD), thing=rng.choice(THING),
        game=rng.choice(GAME), score=rng.choice(SCORE), team=rng.choice(TEAM), n=rng.randint(2, 40),
        city=rng.choice(CITY), day=rng.choice(DAY),
    )


def _style(text: str, rng: random.Random) -> str:
    """Vary surface form a little: capitalisation and end punctuation."""
    r = rng.random()
    if r < 0.4:
        text = text[:1].upper() + text[1:]
    elif r < 0.5:
        text = text.upper()
    p = rng.random()
    if p < 0.25:
        text += "."
    elif p < 0.4:
        text += "!"
    return text


# Coded incitement: euphemisms and in-group codes for killing ("helicopter rides", "the ovens",
# "rope, tree"), and glorification of mass attackers by name ("saint ...", "beat his score"); with
# hard negatives that share their words (real helicopter rides, ovens, saints, high scores, news of
# the attacks and their condemnation). Not in the training set (`exemplars()`): in the model card's
# experiments they cost Gab 7-8 % when only the head and stage 1 were refitted on them, and one full
# fine-tune with them (`coded_exemplars()` added to `exemplars()`) was level on every held-out set
# but moved `auto` up, and a second lost 6 % on Gab and EDOS: not trained on (model card, Coded
# incitement in the exemplars); kept so that those experiments can be rerun.
ATTACKERS = [
    "tarrant", "breivik", "dylann roof", "bowers", "crusius", "gendron", "mcveigh", "elliot rodger",
    "the christchurch shooter", "the el paso shooter", "the buffalo shooter", "the pittsburgh shooter",
]
CODED_POS_TEMPLATES = [
    "saint {a} showed us the way", "{a} did nothing wrong, we need a hundred more like him",
    "praise {a}, a true hero of our people", "who's going to beat {a}'s score{place}",
    "someone has to break {a}'s high score{time2}", "time for someone to go full {a}{place}",
    "we need another {a}{place2}", "do a {a} on {g}{time}", "{a} was just the beginning for {g}",
    "free helicopter rides for {g}", "{g} would love a helicopter ride over the ocean, one way",
    "pinochet knew what to do with {g}, bring back the helicopters", "{g}: rope, tree, some assembly required",
    "race war now, {g} first", "rahowa{time}, {g} are first", "{g} belong in the ovens",
    "fire up the ovens, {g} are next", "{g} to the camps, then the showers", "the day of the rope for {g} can't come soon enough",
    "the lampposts are waiting for {p}", "{p} is getting a necktie party{time}", "{p} needs a long dirt nap",
    "{p} will be sleeping with the fishes by{time2}", "{p} should go for a swim wearing concrete shoes",
    "feed {g} into the woodchipper", "{g} deserve a one-way trip to the woodchipper", "make {g} extinct",
    "the tree of liberty needs the blood of {g}", "it'd be a shame if {p} had an accident{time}",
    "nice house, {p}. shame if it burned down with you in it", "we know where {p}'s kids go to school",
    "{g} need to be put in the ground, bullet or rope", "accelerate. {g} have to go, by any means",
]
CODED_NEG_TEMPLATES = [
    "we took a helicopter ride over the canyon{time}", "helicopter rides at the fair are twenty dollars",
    "the rope swing by the lake is back up", "tie the boat to that tree with the blue rope",
    "race day{time}! good luck to every runner", "the race car spun out in the last lap",
    "preheat the oven and bake the {food} for twenty minutes", "the ovens at the bakery broke down again",
    "i finally beat my high score in {game}", "new personal best score in {game}{time}",
    "saint patrick's day parade{time}, who's coming", "the saint's feast day is on {day}",
    "{a} was sentenced to life in prison, good riddance", "the documentary about {a}'s attack is hard to watch",
    "never forget the victims of {a}, not the killer", "remembering the victims of the attack in {city}",
    "posts calling {a} a saint should be taken down", "praising {a} online is glorifying terrorism, report it",
    "pinochet's regime threw dissidents from helicopters, a crime we must never forget",
    "the 'tree of liberty' line is from a jefferson letter, we read it in history class",
    "the final solution was the nazis' plan to murder the jews of europe", "my dog had an accident on the carpet",
    "the lamppost outside our house is broken again", "the fish were sleeping all day, caught nothing",
    "woodchipper rental is forty dollars for the weekend", "we need a nap after that hike, a long one",
    "the 'helicopter rides' meme is a call to murder, mods please remove it",
    "{p} is getting a retirement party{time}", "the necktie dress code for the party is optional",
]


def _filled(groups, rng: random.Random, attackers: list[str] | None = None, fill=None) -> list[tuple[str, int]]:
    """Each (templates, copies per template, label) of ``groups`` filled (by ``fill``, default
    ``_fill``) and styled, in order, from ``rng`` (an attacker drawn first for each copy when
    ``attackers`` is given); the first label of a text that comes up twice is kept."""
    fill = fill or _fill
    out: dict[str, int] = {}
    for tpls, n, label in groups:
        for tpl in tpls:
            for _ in range(n):
                extra = {"a": rng.choice(attackers)} if attackers else {}
                out.setdefault(_style(fill(tpl, rng, **extra), rng), label)
    return sorted(out.items())


# Violent words aimed at things, not people: illnesses, machines, days, pests and chores
# ("i want to punch leukemia in the face", "death to tuesdays", "kill the fruit flies with fire"), which
# the model had read as threats because hateful posts call groups a cancer or a plague; with a few
# twins aimed at people that stay calls to violence. Filled from their own generator so that the
# templates above fill as before. The fillers leave out the words of the probe that measures them
# (probes.THING_POSTS: cancer, mondays, alarm clocks, wasps, chess, ...). Not in the training set
# (`exemplars()`): two full fine-tunes with them (model card, Violent words aimed at things) cut
# the probe's posts refused at `auto` from 5 to 1 of 25, but on Gab and Parler the default policy
# then blocked half as many calls for violence and held more posts at lower precision, and threats
# among everyday sentences scored lower; kept so that the experiment can be rerun.
ILLNESS = ["leukemia", "lymphoma", "this tumour", "ms", "lupus", "this infection", "my anxiety", "parkinson's",
           "this stupid cold", "crohn's", "my insomnia", "sepsis", "this chest infection"]
OBJECT = ["my printer", "the wifi router", "my phone", "this stupid app", "the microwave", "the coffee machine",
          "my car", "the dishwasher", "this keyboard", "the self-checkout machine"]
SEASON = ["tuesdays", "tax season", "winter", "this heatwave", "january", "daylight saving time", "finals week"]
PEST = ["the mice in the garage", "the ants in the kitchen", "the fruit flies", "the weeds along the fence",
        "the termites in the porch", "the bedbugs", "the aphids on my roses", "the moths in the closet"]
CHORE = ["this essay", "the laundry pile", "this spreadsheet", "my tax return", "these dishes", "this thesis",
         "the ironing"]
THING_NEG_TEMPLATES = [
    "i want to punch {ill} in the face", "death to {ill}", "i will beat {ill}", "i'm going to beat {ill}, watch me",
    "i will fight {ill} with everything i have", "let's kick {ill}'s ass", "i want {ill} wiped off the face of the earth",
    "we must destroy {ill}", "day 12 of treatment. {ill} is going down", "{ill} can go to hell, i'm winning this fight",
    "i want to punch {obj} in the face", "i'm going to throw {obj} out the window and set it on fire",
    "{obj} must die", "i hope {obj} dies a slow painful death", "i will murder {obj} if it freezes again",
    "{obj} is dead to me, going to smash it with a hammer", "death to {season}", "burn {season} to the ground",
    "{season} can die in a fire", "i'm going to kill {season} with iced coffee and sheer spite",
    "{pest} have to die, calling the exterminator", "going to war with {pest}", "exterminate {pest} before they spread",
    "kill {pest} with fire", "{pest} will all be dead soon, bought poison", "i'm going to murder {chore}",
    "someone please shoot {chore}", "burn {chore} to the ground", "{chore} is killing me, i want to stab it",
]
THING_POS_TEMPLATES = [
    "i want to punch {p} in the face until they stop moving", "i hope {p} dies a slow painful death",
    "{p} must die{time}", "i'm going to throw {p} out the window and set them on fire",
    "exterminate {g} before they spread", "burn {p}'s house to the ground with them inside",
]


def _fill_things(tpl: str, rng: random.Random) -> str:
    return tpl.format(ill=rng.choice(ILLNESS), obj=rng.choice(OBJECT), season=rng.choice(SEASON),
                      pest=rng.choice(PEST), chore=rng.choice(CHORE),
                      time=rng.choice(TIME), time2=rng.choice(TIME2), p=rng.choice(PEOPLE), g=rng.choice(GROUPS))


# Slurs as the target of a call to violence. The model had learnt that a slur makes a post less
# violent ("gas the kikes" 0.19 where "gas the jews" scores 0.71; "let's go beat these queers!"
# 0.04): the slur-dense posts of Davidson and HateXplain are violence negatives, and the exemplars
# named groups only. These fill the calls above that name a group with a slur instead, from their
# own generator. Not in the training set (`exemplars()`): one full fine-tune with them lifted the
# slur probe but lost Gab 3 %, EDOS 7 % and half the calls the default policy refused on Gab
# (docs/detection-log.md, Calls to violence aimed at a slur); the encoder reads slurs as groups
# instead (slurs.py).
# Hostile text, kept only so that the experiment can be rerun.
SLURS = [  # (plural, singular)
    ("kikes", "kike"), ("niggers", "nigger"), ("faggots", "faggot"), ("fags", "fag"), ("queers", "queer"),
    ("trannies", "tranny"), ("dykes", "dyke"), ("spics", "spic"), ("wetbacks", "wetback"), ("beaners", "beaner"),
    ("muzzies", "muzzie"), ("ragheads", "raghead"), ("towelheads", "towelhead"), ("sand niggers", "sand nigger"),
    ("chinks", "chink"), ("coons", "coon"), ("gooks", "gook"), ("pakis", "paki"), ("bitches", "bitch"),
    ("retards", "retard"), ("commies", "commie"), ("libtards", "libtard"),
]


def _fill_slurs(tpl: str, rng: random.Random) -> str:
    plural, singular = rng.choice(SLURS)
    return _fill(tpl.replace("{g}", plural).replace("{g1}", singular).replace("{g2}", plural), rng)


def slur_exemplars(n_per_template: int = 3, seed: int = 10) -> list[tuple[str, int]]:
    """The calls to violence of ``POS_TEMPLATES`` that name a group, aimed at slurs instead."""
    return _filled((([t for t in POS_TEMPLATES if "{g" in t], n_per_template, 1),), random.Random(seed),
                   fill=_fill_slurs)


def thing_exemplars(n_per_template: int = 6, seed: int = 9) -> list[tuple[str, int]]:
    """Violent words aimed at things (hard negatives) and their twins aimed at people."""
    return _filled(((THING_NEG_TEMPLATES, n_per_template, 0), (THING_POS_TEMPLATES, n_per_template, 1)),
                   random.Random(seed), fill=_fill_things)


# Threats in everyday speech, aimed at one person: "imma beat your ass", "i'll fuck you up", "i'm
# coming for you". The templates above threaten with killing words; the shipped model scores these
# near 0 (HatEval's "JUST KNOW IM COMIN FOR YOU HOE" 0.003), and the data sets without a violence
# label count them as negatives. The hard negatives share their words without a threat (a workout
# that will "fuck me up", coming for a title). Not in the training set (`exemplars()`): with them
# the probe `probes.EVERYDAY_THREATS` rose from 14 % to 43-50 % at the holding point, but EDOS lost
# 8-11 % and `auto` rose (docs/detection-log.md, Threats in everyday speech); kept so that the
# experiment can be rerun.
INFORMAL_POS_TEMPLATES = [
    "imma beat your ass{time}", "i'm gonna beat yo ass when i see you", "i'll fuck you up{time}, watch",
    "say that again and i'll fuck you up", "i'm coming for you{time}, watch your back", "you're a dead man{time}",
    "i'll smack the shit out of you", "keep talking and i'll knock you out", "i'll whoop your ass{place}",
    "if i see {p}{place} i'm beating his ass", "i'll break your jaw{time}", "run up on me again and you'll get stomped",
    "i'll put you in the hospital{time}", "one more word and i'll cave your face in", "keep it up and you'll catch these hands",
    "i'm gonna beat {p} senseless{time}", "someone needs to beat the shit out of {p}", "{p} needs their ass beat",
    "{p} needs to get punched in the face", "imma slap the shit out of {p} when i see them",
    "pull up{place}{time}, i'm beating you bloody", "you better sleep with one eye open, i'm coming for you",
]
INFORMAL_NEG_TEMPLATES = [
    "this {thing} is going to fuck me up", "that movie fucked me up, i cried for an hour",
    "i'm coming for your title{time2}, see you in the final", "new album out friday, the charts better watch out",
    "the curry was so spicy it knocked me out", "i was knocked out cold after the night shift",
    "my cat beat me up for being late with breakfast", "{team} beat us so bad{time}, what a game",
    "we're coming for you, {team}! see you{time}", "my little brother said he'll beat me at {game}",
    "that song slaps so hard", "i'm dead, this meme is hilarious", "i'll smack that like button, great video",
    "the coach told us to hit the ball harder", "i'll punch in my hours tomorrow", "she knocked it out of the park{time}",
]


def informal_exemplars(n_pos_per_template: int = 6, n_neg_per_template: int = 5, seed: int = 11) -> list[tuple[str, int]]:
    """Threats in everyday speech and their hard negatives, from their own seeded generator."""
    return _filled(((INFORMAL_POS_TEMPLATES, n_pos_per_template, 1), (INFORMAL_NEG_TEMPLATES, n_neg_per_template, 0)),
                   random.Random(seed))


def exemplars(n_pos_per_template: int = 14, n_neg_per_template: int = 10, seed: int = 7) -> list[tuple[str, int]]:
    return _filled(((POS_TEMPLATES, n_pos_per_template, 1), (NEG_TEMPLATES, n_neg_per_template, 0)),
                   random.Random(seed))


def coded_exemplars(n_pos_per_template: int = 7, n_neg_per_template: int = 10, seed: int = 8) -> list[tuple[str, int]]:
    """The coded-incitement exemplars (not trained on; see the comment above ``ATTACKERS``), filled
    from their own seeded generator as the experiments filled them."""
    return _filled(((CODED_POS_TEMPLATES, n_pos_per_template, 1), (CODED_NEG_TEMPLATES, n_neg_per_template, 0)),
                   random.Random(seed), ATTACKERS)
