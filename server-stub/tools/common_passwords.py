#!/usr/bin/env python3
"""Writes server-stub's list of common passwords (SPEC §8), which sign-up refuses.

No published breach list is at hand offline, so the list is made from what such lists are full of: a hand list of
the passwords at the top of every published ranking, the words people build passwords from with the endings they
add (digits, years, '!'), keyboard walks, runs and repeats of digits and letters, and a few leetspeak spellings.
Only entries of 8 to 64 characters are kept, since shorter passwords are refused by length already. Entries are
lower case: the server compares case-insensitively, so 'Password1' is refused along with 'password1'.

Run:  python3 server-stub/tools/common_passwords.py > \
        server-stub/src/main/resources/dev/parley/server/internal/auth/common-passwords.txt
"""

TOP = """123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball abc123 football
monkey letmein 696969 shadow master 666666 qwertyuiop 123321 mustang 1234567890 michael 654321 superman 1qaz2wsx
7777777 121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter buster soccer harley
batman andrew tigger sunshine iloveyou 2000 charlie robert thomas hockey ranger daniel starwars klaster 112233
george computer michelle jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom 777777 pass maggie 159753
aaaaaa ginger princess joshua cheese amanda summer love ashley nicole chelsea biteme matthew access yankees
987654321 dallas austin thunder taylor matrix minecraft william corvette hello martin heather secret merlin
diamond 1234qwer gfhjkm hammer silver 222222 88888888 anthony justin test bailey q1w2e3r4t5 patrick internet
scooter orange 11111 golfer cookie richard samantha bigdog guitar jackson whatever mickey chicken sparky snoopy
maverick phoenix camaro peanut morgan welcome falcon cowboy ferrari samsung andrea smokey steelers joseph
mercedes dakota arsenal eagles melissa boomer booboo spider nascar monster tigers yellow xxxxxx 123123123
gateway marina diablo bulldog qwer1234 compaq purple hardcore banana junior hannah 123654 porsche lakers
iceman money cowboys 987654 london tennis 999999 ncc1701 coffee scooby 0000 miller boston q1w2e3r4 brandon
yamaha chester mother forever johnny edward 333333 oliver redsox player nikita knight fender barney midnight
please brandy chicago badboy slayer rangers charles angel flower rabbit wizard bigdick jasper enter rachel
chris steven winner adidas victoria natasha 1q2w3e4r jasmine winter prince panties marine ghbdtn fishing
cocacola casper james 232323 raiders 888888 marlboro gandalf asdfasdf crystal 87654321 12344321 golden 8675309
alexander xxxxxxxx qazwsxedc 1q2w3e4r5t asdfghjkl zaq12wsx passw0rd p@ssw0rd p@ssword pa55word password1
password12 password123 password1234 welcome1 welcome123 letmein1 admin admin123 administrator root toor
changeme changeme123 default guest login abcd1234 abcdefgh abcdefg1 aa123456 a1b2c3d4 iloveyou1 iloveu
sunshine1 princess1 football1 baseball1 monkey123 dragon123 qwerty123 qwerty1 qwertyui qwerty12 asdf1234
zxcvbnm1 1qazxsw2 1qaz2wsx3edc q1w2e3r4t5y6 123abc abc12345 trustno1 hello123 helloworld hello1234 superman1
batman123 starwars1 pokemon pokemon123 naruto onepiece shadow123 master123 killer123 loveme lovely loveyou
mypassword mypass yourpassword secret123 secret1 test123 test1234 testing testtest user user1234 demo demo1234
parley parley123 chatgpt openai google facebook linkedin twitter instagram youtube whatsapp microsoft apple
iphone android windows linux ubuntu qwerty1234 azerty azertyuiop qwertz qwertzuiop 0987654321 1122334455
147258369 159357 147258 741852963 963852741 789456123 456789 123456a 123456q 12345qwert qwerty12345
1234554321 11223344 12121212 13131313 7654321 9876543210 01234567 012345678 0123456789 a12345678 q12345678
""".split()

WORDS = """password passw0rd pass letmein welcome admin administrator login master secret shadow dragon monkey
football baseball soccer hockey basketball tennis golf iloveyou iloveu loveyou lovely love princess sunshine
superman batman spiderman starwars pokemon minecraft fortnite qwerty asdfgh zxcvbn computer internet freedom
whatever trustno1 michael jennifer jessica michelle ashley amanda daniel charlie thomas robert william joshua
matthew andrew anthony jordan hunter ranger tigger buster harley maggie ginger pepper cookie chicken cheese
summer winter spring autumn flower rainbow butterfly angel heaven forever family friends friend happy smile
orange banana purple yellow silver golden diamond crystal money dollar pussy killer hello welcome guitar music
mustang ferrari porsche mercedes corvette yamaha liverpool chelsea arsenal barcelona madrid juventus manchester
united london paris berlin chicago dallas boston newyork america canada germany france england australia
jesus christ blessed god hallelujah junior senior family baby babygirl sweetie sweetheart honey darling
december november october september august july june april march february january monday friday sunday
parley chatgpt openai google facebook samsung iphone android windows apple dragonball naruto""".split()

ENDINGS = ["", "1", "12", "123", "1234", "12345", "123456", "!", "1!", "123!", "01", "007", "69", "11", "13",
           "21", "22", "99", "00", "2000", "@123", "#1"] + [str(y) for y in range(1970, 2031)]

WALKS = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "qazwsxedc", "1qaz2wsx", "1qaz2wsx3edc", "zaq12wsx", "!qaz2wsx",
         "qwerasdf", "qwerasdfzxcv", "asdfqwer", "1q2w3e4r", "1q2w3e4r5t", "1q2w3e4r5t6y", "q1w2e3r4", "q1w2e3r4t5",
         "qweasdzxc", "zxcasdqwe", "poiuytrewq", "lkjhgfdsa", "mnbvcxz", "azertyuiop", "qwertzuiop", "ytrewq",
         "1234qwer", "qwer1234", "asdf1234", "1234asdf", "zxcv1234", "qwe123", "asd123", "zxc123", "qweqweqwe",
         "asdasdasd", "123qweasd", "123qweasdzxc", "qweasd123", "!@#$%^&*", "!@#$%^&*()", "1234!@#$", "qwerty!@#"]


def runs():
    digits = "01234567890"
    for start in range(10):
        for length in range(8, 11):
            seq = (digits * 3)[start:start + length]
            yield seq
            yield seq[::-1]
    for d in "0123456789":
        for length in range(8, 17):
            yield d * length
    for a in "0123456789":
        for b in "0123456789":
            if a != b:
                yield (a + b) * 4
                yield (a + b) * 5
    for ch in "abcdefghijklmnopqrstuvwxyz":
        yield ch * 8
        yield ch * 10
    yield "abcdefgh"
    yield "abcdefghij"
    yield "abcdefghijklmnopqrstuvwxyz"
    for n in range(1, 10):
        yield "12345678"[:n] + "12345678"[:8 - n] if n < 8 else "12345678"


LEET = str.maketrans({"a": "@", "o": "0", "e": "3", "i": "1", "s": "$"})


def candidates():
    yield from TOP
    yield from WALKS
    yield from runs()
    for word in WORDS:
        for ending in ENDINGS:
            yield word + ending
        yield word + word
        yield word.translate(LEET)
        yield word.translate(LEET) + "1"
        yield word.translate(LEET) + "123"
        yield "my" + word
        yield "i" + word
    for walk in WALKS:
        for ending in ["1", "12", "123", "!"]:
            yield walk + ending


def main():
    seen = set()
    kept = []
    for candidate in candidates():
        word = candidate.lower()
        if 8 <= len(word) <= 64 and word not in seen and not word.isspace():
            seen.add(word)
            kept.append(word)
    print("# Common passwords that sign-up refuses (SPEC §8), one a line, lower case; compared case-insensitively.")
    print("# Made by server-stub/tools/common_passwords.py from the passwords at the top of published rankings,")
    print("# the words such passwords are built from with the usual endings (digits, years 1970-2030, '!'), keyboard")
    print("# walks, runs and repeats of digits and letters, and leetspeak spellings. " + str(len(kept)) + " entries,")
    print("# all 8 to 64 characters long (shorter passwords are refused by length already).")
    for word in kept:
        print(word)


if __name__ == "__main__":
    main()
