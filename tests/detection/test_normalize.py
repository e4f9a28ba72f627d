"""Each normalisation step on its own, then the whole pipeline and its offset map."""
from warden.detection.normalize import (
    STEPS, Buf, apply_step, drop_mentions_and_links, expand_slang, fold_unicode, join_broken, join_spaced, map_confusables, map_emoji, map_leet,
    normalize, read_capital_i, read_hashtags, split_underscores, split_hashtags, squeeze_repeats, squeeze_space, strip_invisible,
    unwrap_letters,
)


def test_strip_invisible_zero_width_and_bidi():
    assert apply_step(strip_invisible, "ki\u200bl\u200dl") == "kill"
    assert apply_step(strip_invisible, "\u202ekill\u202c \ufeffthem") == "kill them"
    assert apply_step(strip_invisible, "plain text") == "plain text"


def test_drop_mentions_and_links():
    assert apply_step(drop_mentions_and_links, "@bob I am going to kill you") == " I am going to kill you"
    assert apply_step(drop_mentions_and_links, "@bob@mastodon.social @amy_2 die") == "  die"
    assert apply_step(drop_mentions_and_links, "RT @news: hang them https://t.co/x1.") == " hang them ."
    assert apply_step(drop_mentions_and_links, "(see www.example.com/a?b=1)") == "(see )"
    # e-mail addresses, a lone "@" and leetspeak ("@ll" is "all") are not mentions
    assert apply_step(drop_mentions_and_links, "bob@example.com @ 5pm, k1ll @ll") == "bob@example.com @ 5pm, k1ll @ll"
    # which leetspeak then reads; a one-letter name ("@a", how the Gab corpus writes mentions) stays
    assert normalize("k1ll @ll th3 1mmigr@nts").text == "kill all the immigrants"
    assert normalize("kick his @ss").text == "kick his ass"
    assert normalize("hey @a @e you there").text == "hey @a @e you there"


def test_a_reply_reads_like_the_same_words_unaddressed():
    n = normalize("@bob@mastodon.social I'm going to KILL you https://example.com/x")
    assert n.text == "i'm going to kill you"
    at = n.text.index("kill")
    assert n.original[slice(*n.to_original(at, at + 4))] == "KILL"


def test_split_hashtags_spaces_out_camel_case_words():
    assert apply_step(split_hashtags, "#HangTheTraitors now") == "#Hang The Traitors now"
    assert apply_step(split_hashtags, "#NoDACA #DACAVote") == "#No DACA #DACA Vote"
    # one-case hashtags and camel case outside a hashtag are left alone
    assert apply_step(split_hashtags, "#therapist #BANISLAM McDonald") == "#therapist #BANISLAM McDonald"
    # in the pipeline the words read as words and map back into the hashtag
    n = normalize("so #KillTheElite today")
    assert n.text == "so kill the elite today"
    at = n.text.index("elite")
    assert n.original[slice(*n.to_original(at, at + 5))] == "Elite"


def test_join_broken_violent_words():
    assert apply_step(join_broken, "we should k-ill them") == "we should kill them"
    assert apply_step(join_broken, "they are all de.ad, sho_ot them") == "they are all dead, shoot them"
    assert apply_step(join_broken, "ki ll them, mur der them") == "kill them, murder them"
    assert apply_step(join_broken, "sta_bbing") == "stabbing"


def test_join_broken_at_an_apostrophe_or_a_tilde_and_in_three_pieces():
    assert apply_step(join_broken, "i am going to k'ill you, ki'll you, k’ill you") == \
        "i am going to kill you, kill you, kill you"
    assert apply_step(join_broken, "k~ill them, sh'oot them") == "kill them, shoot them"
    assert apply_step(join_broken, "k-il-l them, mu-rd-er them") == "kill them, murder them"


def test_join_broken_leaves_contractions_and_possessives_alone():
    # "she'll" is not "shell", "ga's vote" is not "gas vote", and the tail of a contraction does
    # not start a word ("it's hot" is not "it shot", with either apostrophe)
    text = "she'll win, ga's vote, it's hot, she’s hot, don't, i'll go, we'd"
    assert apply_step(join_broken, text) == text
    assert normalize(text).text == text


def test_join_broken_leaves_words_and_other_joins_alone():
    # two words stay two words even where together they would be violent ("be head", "gun shot")
    assert apply_step(join_broken, "be head of it, a gun shot") == "be head of it, a gun shot"
    assert apply_step(join_broken, "kill-them kill_them") == "kill-them kill_them"
    assert normalize("we_should_kill_them").text == "we should kill them"
    # only violent words are joined: "ex-wife", "e.g." and "dead-end" stay
    assert apply_step(join_broken, "my ex-wife, e.g. a dead-end job") == "my ex-wife, e.g. a dead-end job"
    n = normalize("Go K-ILL them")
    assert n.text == "go kill them"
    at = n.text.index("kill")
    assert n.original[slice(*n.to_original(at, at + 4))] == "K-ILL"


def test_expand_slang_reads_misspelt_violent_words():
    assert apply_step(expand_slang, "i will kil you, kll them, mrdr them all") == \
        "i will kill you, kill them, murder them all"
    assert normalize("He KILED them").text == "he killed them"
    # words that merely contain one, and words of the word list, stay
    assert normalize("a skilled kilometre, kill").text == "a skilled kilometre, kill"


def test_split_underscores_between_words():
    assert apply_step(split_underscores, "we_should_kill_them") == "we should kill them"
    assert apply_step(split_underscores, "_private_ and __init") == "_private_ and __init"


def test_read_hashtags_drops_the_mark_and_spaces_out_one_case_words():
    assert apply_step(read_hashtags, "#hangmikepence tomorrow") == "hang mike pence tomorrow"
    assert apply_step(read_hashtags, "#killallmuslims #burnitdown") == "kill all muslims burn it down"
    assert apply_step(read_hashtags, "#itsoktobewhite") == "its ok to be white"
    assert normalize("#kill_them_all").text == "kill them all"
    # a plural of a known word, and one piece the word list lacks (a name) where words cover most
    assert apply_step(read_hashtags, "#hangthebitches") == "hang the bitches"
    assert apply_step(read_hashtags, "#deportthemall") == "deport them all"


def test_read_hashtags_leaves_words_short_tags_and_non_tags_whole():
    # a hashtag that is a word is not cut into smaller ones ("the rapist")
    assert apply_step(read_hashtags, "#therapist #nowhere") == "therapist nowhere"
    # short tags, tags with digits and tags no known words cover stay as one word
    assert apply_step(read_hashtags, "#maga #trump2020 #archillect") == "maga trump2020 archillect"
    # a "#" that does not start a hashtag stays
    assert apply_step(read_hashtags, "# of posts, #1, C# and &#8220;") == "# of posts, #1, C# and &#8220;"
    assert apply_step(read_hashtags, "no tags here") == "no tags here"


def test_plain_posts_with_hashtags_or_broken_words_take_a_short_cut_to_the_same_result():
    for text in ["Tomorrow we march #hangmikepence", "go #kysnow", "#therapist says hi", "a # b #c_d #",
                 "#HangTheTraitors now", "#HANGMIKEPENCE", "so #deportthemall and #maga", "we should k-ill them",
                 "mur der #them", "KiII them", "be head", "we_should_kill_them", "a_b #c_d",
                 "hang them https://example.com/a", "see www.example.com"]:
        buf = Buf.of(text)
        for step in STEPS:
            buf = step(buf)
        n = normalize(text)
        assert (n.text, n.starts, n.ends) == (buf.text, tuple(buf.starts), tuple(buf.ends)), text
    assert normalize("go #kysnow").text == "go kill yourself now"


def test_read_hashtags_in_the_pipeline_maps_back_into_the_tag():
    n = normalize("Tomorrow: #HANGMIKEPENCE!!")
    assert n.text == "tomorrow: hang mike pence!!"
    at = n.text.index("mike")
    assert n.original[slice(*n.to_original(at, at + 4))] == "MIKE"
    assert n.original[slice(*n.to_original(0, len(n.text)))] == n.original


def test_read_capital_i_as_l_where_that_makes_a_word():
    assert apply_step(read_capital_i, "KiII them aII") == "Kill them all"
    assert apply_step(read_capital_i, "go to heII") == "go to hell"
    # a capital I that is an I: word starts, acronyms, names and camel case stay
    assert apply_step(read_capital_i, "I said NoIslam to McIntyre at IBM") == "I said NoIslam to McIntyre at IBM"


def test_fold_unicode_nfkc_case_and_marks():
    assert apply_step(fold_unicode, "ＫＩＬＬ") == "kill"            # fullwidth
    assert apply_step(fold_unicode, "𝐤𝐢𝐥𝐥 𝓉𝒽ℯ𝓂") == "kill them"      # math alphabets
    assert apply_step(fold_unicode, "k̶i̶l̶l̶") == "kill"              # stacked combining marks
    assert apply_step(fold_unicode, "Café") == "cafe"


def test_map_confusables_cyrillic_greek():
    assert apply_step(map_confusables, "кіll") == "kill"           # Cyrillic к, і
    assert apply_step(map_confusables, "ѕhοοt") == "shoot"         # Cyrillic ѕ, Greek ο
    assert apply_step(map_confusables, "ascii stays") == "ascii stays"


def test_map_confusables_enclosed_letters_nfkc_leaves_alone():
    assert apply_step(map_confusables, "🅺🅸🅻🅻 them") == "kill them"  # negative squared
    assert apply_step(map_confusables, "🅚🅘🅛🅛 them") == "kill them"  # negative circled
    assert apply_step(map_confusables, "ĸill") == "kill"                 # kra
    # an inverted exclamation mark inside a word is an i; as punctuation it stays
    assert apply_step(map_confusables, "k¡ll them ¡ya!") == "kill them ¡ya!"
    assert apply_step(map_confusables, "🇺🇸 proud") == "🇺🇸 proud"       # flags are not letters


def test_map_emoji_weapons():
    assert apply_step(map_emoji, "bring the 🔫") == "bring the  gun "
    assert "knife" in apply_step(map_emoji, "🔪🔪")
    assert "bomb" in apply_step(map_emoji, "💣 them")


def test_join_spaced_and_dotted_letters():
    assert apply_step(join_spaced, "k i l l them") == "kill them"
    assert apply_step(join_spaced, "k.i.l.l them") == "kill them"
    assert apply_step(join_spaced, "s-h-o-o-t") == "shoot"
    assert apply_step(join_spaced, "i am a teacher") == "i am a teacher"


def test_join_spaced_reads_one_letter_to_a_line():
    assert apply_step(join_spaced, "i will k\ni\nl\nl you") == "i will kill you"
    assert apply_step(join_spaced, "k\r\ni\r\nl\r\nl") == "kill"
    n = normalize("K\nI\nL\nL\nT\nH\nE\nM")
    assert n.text == "kill them"
    assert n.original[slice(*n.to_original(0, 4))] == "K\nI\nL\nL"
    # lines of words, and two one-letter lines, stay as written
    assert normalize("i\nam\nhere").text == "i am here"
    assert normalize("pick a\nb or c").text == "pick a b or c"


def test_unwrap_letters_written_one_to_a_bracket():
    assert apply_step(unwrap_letters, "(k)(i)(l)(l) them all") == "kill them all"
    assert apply_step(unwrap_letters, "we will [k][i][l][l] (t)(h)(e)(m)") == "we will kill them"
    assert apply_step(unwrap_letters, "{s}{h}{o}{o}{t} him") == "shoot him"
    # spaced ones become spaced letters, which join_spaced reads
    assert apply_step(unwrap_letters, "(k) (i) (l) (l) them") == "k i l l them"
    assert normalize("(K) (I) (L) (L) the traitors").text == "kill the traitors"
    # two in a row, or brackets inside a word, stay as written
    assert apply_step(unwrap_letters, "option (a) or (b)") == "option (a) or (b)"
    assert apply_step(unwrap_letters, "f(x)(y)(z)") == "f(x)(y)(z)"
    n = normalize("they must (h)(a)(n)(g) tonight")
    assert n.text == "they must hang tonight"
    assert n.original[slice(*n.to_original(10, 14))] == "(h)(a)(n)(g)"


def test_join_spaced_keeps_the_words_a_spaced_out_run_spells():
    assert apply_step(join_spaced, "k i l l t h e m all") == "kill them all"
    assert apply_step(join_spaced, "im gonna k i l l u") == "im gonna kill u"
    assert apply_step(join_spaced, "people are a c a n c e r") == "people are a cancer"
    n = normalize("K I L L T H E M")
    assert n.text == "kill them"
    assert n.original[slice(*n.to_original(5, 9))] == "T H E M"
    # one word stays one word; acronyms stay whole, dotted ("a.s.a.p", "r.i.n.o") or not
    # ("m a g a" is not "mag a")
    assert apply_step(join_spaced, "s h o o t them") == "shoot them"
    assert apply_step(join_spaced, "a.s.a.p r.i.n.o m a g a") == "asap rino maga"


def test_map_leet():
    assert apply_step(map_leet, "k1ll them") == "kill them"
    assert apply_step(map_leet, "5h00t") == "shoot"
    assert apply_step(map_leet, "h4ng th3m") == "hang them"
    # numbers, ordinals and times are left alone
    assert apply_step(map_leet, "meet at 10am on the 4th, 2024: 100k of us") == "meet at 10am on the 4th, 2024: 100k of us"
    # a word and a number run together stay, unless a reading is a word
    assert apply_step(map_leet, "trump2020 covid19 people2014") == "trump2020 covid19 people2014"
    assert apply_step(map_leet, "k1ll3d") == "killed"


def test_map_leet_prefers_a_word_as_it_stands_to_one_after_squeezing():
    # "kiii" squeezes to the word "ki"; "kill" is a word as it is
    assert apply_step(map_leet, "ki11 them") == "kill them"
    assert normalize("ki11 them").text == "kill them"


def test_map_leet_reads_a_single_masked_letter_only_when_one_reading_is_a_word():
    assert apply_step(map_leet, "k*ll them all") == "kill them all"
    assert apply_step(map_leet, "what the f*ck") == "what the fuck"
    assert apply_step(map_leet, "n*gger") == "nigger"
    assert apply_step(map_leet, "go to h*ll") == "go to h*ll"        # hall, hell, hill, hull
    assert apply_step(map_leet, "you c**t") == "you c**t"            # two stars hide consonants too
    assert apply_step(map_leet, "*really* mean it") == "*really* mean it"  # emphasis, not masking
    assert apply_step(map_leet, "2*3 = 6") == "2*3 = 6"


def test_map_leet_reads_two_masked_vowels_only_as_a_violent_word():
    assert apply_step(map_leet, "m*rd*r them tonight") == "murder them tonight"
    assert apply_step(map_leet, "sl**ghter them") == "slaughter them"
    assert apply_step(map_leet, "they should be st*bb*d") == "they should be stabbed"
    assert apply_step(map_leet, "sh**t them") == "sh**t them"          # shoot or shout
    assert apply_step(map_leet, "what the f**k") == "what the f**k"    # no violent reading
    assert apply_step(map_leet, "b**b the building") == "b**b the building"  # "boob" is no threat
    assert apply_step(map_leet, "sh*t") == "sh*t"                      # one star: shot, shit, shut
    assert apply_step(map_leet, "they should drown") == "they should drown"
    assert apply_step(map_leet, "dr*wn*d") == "drowned"                # a violent word, though no whole word piece


def test_a_star_ending_a_masked_word_is_read_as_a_mask_only_for_a_violent_word():
    assert apply_step(map_leet, "ex*cut* them") == "execute them"
    assert apply_step(map_leet, "that mass*cr* was a good start") == "that massacre was a good start"
    assert apply_step(map_leet, "k*ll* them") == "kill* them"          # "kill" and an emphasis star
    assert apply_step(map_leet, "*really* mean it") == "*really* mean it"
    assert apply_step(map_leet, "h*ll*") == "h*ll*"


def test_masked_word_maps_back_to_what_was_written():
    n = normalize("they will k*ll you")
    assert n.text == "they will kill you"
    start = n.text.index("kill")
    assert n.to_original(start, start + 4) == (10, 14)


def test_squeeze_repeats():
    assert apply_step(squeeze_repeats, "kiiiiill") == "kill"
    assert apply_step(squeeze_repeats, "shooooot") == "shoot"
    assert apply_step(squeeze_repeats, "wow!!!!") == "wow!"
    assert apply_step(squeeze_repeats, "good food") == "good food"


def test_expand_slang():
    assert apply_step(expand_slang, "just kys already") == "just kill yourself already"
    assert apply_step(expand_slang, "they should be unalived") == "they should be killed"
    assert apply_step(expand_slang, "the dotr is coming") == "the day of the rope is coming"
    # only whole words: "skys", "kyshore" and "kys'" inside other words stay
    assert apply_step(expand_slang, "blue skys over kyshore") == "blue skys over kyshore"


def test_slang_in_the_pipeline_maps_back_to_the_word():
    n = normalize("Just KYS")
    assert n.text == "just kill yourself"
    start = n.text.index("kill")
    assert n.to_original(start, len(n.text)) == (5, 8)  # the whole of "KYS"


def test_squeeze_space():
    assert apply_step(squeeze_space, "  a \t\n b  ") == "a b"


def test_pipeline_combined_evasions():
    assert normalize("I will k 1 l l you").text == "i will kill you"
    assert normalize("К\u200bІ\u200bL\u200bL them 🔫").text == "kill them gun"
    assert normalize("5H000T them all").text == "shoot them all"


def test_offset_map_back_to_original():
    orig = "We will k\u200bі\u200bl\u200bl them"
    n = normalize(orig)
    i = n.text.index("kill")
    a, b = n.to_original(i, i + 4)
    assert orig[a:b].replace("\u200b", "") == "kіll"
    orig2 = "go 5h00t 🔫 now"
    n2 = normalize(orig2)
    j = n2.text.index("gun")
    a, b = n2.to_original(j, j + 3)
    assert orig2[a:b] == "🔫"
    # plain ASCII: identity map
    n3 = normalize("Plain Text")
    assert n3.to_original(0, 5) == (0, 5)
