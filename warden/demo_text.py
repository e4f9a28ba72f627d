"""The words of the demo network (warden/demo_history.py): people, everyday posts and incidents.

All of it was written for the demo; none of it comes from a data set. The incidents are short and
plainly fictional, enough for the detector, the policy and the moderators to have something to do.
"""

from __future__ import annotations

#: (username, display name, bio) of the community; the staff and alice/bob/carol/dave are in warden/demo.py.
COMMUNITY = [
    ("jonas", "Jonas Berg", "Cycles to work in all weathers. Bike lane nerd."),
    ("priya", "Priya Raman", "Librarian. Ask me about the reading group."),
    ("tomas", "Tomás Ortega", "Baker on Mill Street. Sourdough evangelist."),
    ("mei", "Mei Tanaka", "Photographs of the river, mostly at dawn."),
    ("lena", "Lena Fischer", "Covers the town council for the local paper."),
    ("kofi", "Kofi Mensah", "Coaches the under-12s on Saturdays."),
    ("sara", "Sara Lindqvist", "Night-shift nurse, day-shift gardener."),
    ("ibrahim", "Ibrahim Haddad", "Teaches maths; collects terrible puns."),
    ("nora", "Nora Kelly", "Allotment 14. Tomatoes, mainly."),
    ("viktor", "Viktor Petrov", "Runs the Thursday chess club at the library."),
    ("ana", "Ana Souza", "Student, part-time barista, full-time opinions."),
    ("rex", "Rex Calder", "Says what he thinks. Football, cars, loud music."),
    ("spamshop", "Best Deals Shop", "Deals deals deals"),
    ("gamer_jo", "Jo Plays Games", "Streams zombie games on Friday nights."),
]
#: The accounts of a coordinated pile-on (created days before it, as brigades are).
BRIGADE = [f"pitchfork_{n:02d}" for n in range(1, 7)]

TOPICS = {
    "cycling": ["The new bike lane on {street} is finally painted. Rode it twice today.",
                "Puncture on {street} this morning; a stranger lent me a pump. Faith in people restored.",
                "Counted {n} bikes parked outside the station at 8am. Up from last month.",
                "Winter tyres on. {street} is all leaves and puddles."],
    "food": ["Sourdough came out of the oven at 5am and the whole street smelled of it.",
             "Trying a rye and caraway loaf this week. Opinions welcome.",
             "The market on {street} has the first {veg} of the season.",
             "Made soup from whatever was left in the fridge. It worked, somehow."],
    "council": ["The council meets on {day} about the {topic}. Public gallery opens at 6pm.",
                "Read the {topic} consultation so you don't have to: the short version is in the thread.",
                "Turnout at last night's meeting on the {topic} was the best in years.",
                "Minutes from the {topic} debate are online now. Worth ten minutes of your time."],
    "garden": ["First frost on the allotment. The {veg} survived, the beans did not.",
               "Swapped seeds with plot 9. Next year: purple {veg}.",
               "Compost heap is steaming nicely. Small pleasures.",
               "If anyone wants rhubarb, I have far too much of it."],
    "school": ["Today's puzzle for the class: how many squares on a chessboard? (Not 64.)",
               "Parents' evening tonight. Bringing biscuits as a peace offering.",
               "The under-12s won 3-2 on Saturday. Proud of every one of them.",
               "Reading group picks for next month are up at the library desk."],
    "weather": ["Fog on the river this morning, the bridge lights looked like lanterns.",
                "Rain all day. Perfect for finishing a book.",
                "Clear skies tonight; you could see the whole of Orion from {street}.",
                "Wind took the bins for a walk down {street} again."],
    "misc": ["Chess club on Thursday: beginners very welcome, we have spare boards.",
             "Lost: one blue umbrella near {street}. Found: a strong sense of acceptance.",
             "Night shift done. Coffee, then sleep, then more coffee.",
             "Does anyone know a good bike mechanic near {street}?",
             "The library's new opening hours start on {day}.",
             "Twelve hours of rain and the river is still polite. Good."],
}
TAGS = {"cycling": "cycling", "food": "baking", "council": "localpolitics", "garden": "gardening",
        "school": "community", "weather": "weather", "misc": "community"}
FILL = {
    "street": ["Mill Street", "Station Road", "the High Street", "Bridge Lane", "Orchard Row", "Canal Walk"],
    "veg": ["kale", "squash", "leeks", "tomatoes", "beetroot", "carrots"],
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
    "topic": ["bike lanes", "library hours", "new bus routes", "river footbridge", "market rents"],
    "n": ["41", "57", "63", "72", "88"],
}
REPLIES = ["Agreed, completely.", "Thanks for sharing this!", "Ha, same here.", "See you there.",
           "Good to know, thank you.", "That's brilliant news.", "Not sure I agree, but fair point.",
           "Saving this for later."]

# --- incidents ---------------------------------------------------------------------------------

#: Posts the policy keeps out before publication (the detector's "auto" threshold).
BLOCKED = [
    "The people who voted for the footbridge are vermin. Round them up and shoot every last one of them.",
    "Someone should burn the council offices down with the whole committee locked inside.",
    "Bring guns to the market on Saturday and start shooting the stallholders.",
    "Those newcomers are animals and should be exterminated before they spread.",
]
#: An innocent post a list rule refuses: appealed, and the appeal succeeds.
FALSE_POSITIVE = "Friday stream tonight: the mall is overrun with zombies and the plan is simple, kill them all!"
#: Veiled and everyday threats: published, and a case opens for a moderator.
THREATS = [
    "That councillor who closed the bus route should sleep with one eye open.",
    "We know where you live, and your days are numbered.",
    "Keep writing lies about the team and you'll get what's coming to you.",
    "Someone should pay them a visit after the meeting and make them regret it.",
]
#: Heated but harmless: a case opens, the moderator finds no violation.
HYPERBOLE = [
    "That referee should be shot for that offside call, absolute disgrace. #football",
    "If the bus is late one more time I'm going to lose it completely.",
]
#: Rude posts aimed at a person: allowed by the detector, reported by people, decided by moderators.
INSULTS = [
    "@{target} you are a pathetic clown and everyone on this server laughs at you.",
    "@{target} nobody reads your rubbish articles, go back to making coffee.",
    "@{target} you are a disgrace and a liar, log off forever.",
]
#: The pile-on aimed at the council reporter.
BRIGADE_POSTS = [
    "@lena your paper prints nothing but lies, you are a disgrace to this town.",
    "@lena everyone knows you make things up. Quit before you are made to.",
    "@lena watch your back, reporter.",
    "@lena pathetic hack, nobody believes a word you write.",
]
SPAM = "Free crypto https://deals.example/win grab yours now, only today!"

REPORT_COMMENTS = {
    "threat": "This reads like a threat against a real person.",
    "insult": "This is aimed at me and it keeps happening.",
    "brigade": "Part of a pile-on from accounts created this week.",
    "spam": "Spam, posted over and over.",
    "false": "I just don't like this person's articles.",
}
NOTICE_EXPLANATIONS = {
    "incitement": "A threat against an identifiable local official, reported to us by a resident.",
    "hate_speech": "Dehumanising language about a group of people.",
    "other": "Complaint forwarded by our abuse desk for review.",
}
APPEALS = {
    "false_positive": "This was about a zombie video game I stream. Nobody real was threatened.",
    "insult": "It was a joke between us, we know each other.",
    "threat": "I was angry about the bus route, I wasn't threatening anyone.",
    "suspend": "Please reconsider, I won't post like that again.",
    "hold": "I was quoting a film, not threatening anyone.",
}

#: The last hours before `warden demo` runs: a small conversation, and a threat reported just now.
TODAY = [
    ("alice", "Hello from Warden! This is the demo server. #introductions", None),
    ("bob", "Morning all. Coffee first, then the council meeting about the new bike lanes. #localpolitics", None),
    ("carol", "Reading the transparency report drafts today. Numbers beat promises. #trustandsafety", None),
    ("alice", "@bob the bike lanes vote is at 6pm, see you there?", 1),
    ("bob", "@alice yes! I'll bring the petition.", 3),
    ("carol", "Reminder: report anything that threatens people; the moderators answer every report.", None),
    ("alice", "I would kill for a decent croissant right now.", None),
    ("rex", "Those councillors voted for the bike lanes. Someone should pay them a visit tonight and make "
            "them regret it.", None),
]
#: (reporter, index into TODAY, category, comment): still open in the moderator console's queue.
TODAY_REPORTS = [
    ("carol", 7, "other", "This reads like a threat against the councillors."),
]
