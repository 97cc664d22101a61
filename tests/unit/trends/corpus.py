"""Test material for trends, written for these tests: ordinary business and sport news (some of
it in the language of battle that sport reporting uses) and a surge of escalation stories in one
country, each in a different city so that each is a story of its own."""

from __future__ import annotations

ORDINARY: list[tuple[str, str]] = [
    (
        "Bakery chain lifts annual profit forecast",
        "A regional bakery chain raised its profit outlook for the year after strong holiday sales. "
        "The company said flour costs had eased and it plans to open twelve new shops.",
    ),
    (
        "Central bank holds interest rates steady",
        "The central bank left its benchmark rate unchanged on Thursday, citing cooling inflation. "
        "Economists had expected the decision and markets barely moved.",
    ),
    (
        "Striker's late goal sinks league leaders",
        "A late goal from the visiting striker ended the leaders' unbeaten run on Saturday. "
        "The home side's attack looked tired after a long week of travel.",
    ),
    (
        "Carmaker recalls hatchbacks over seat belt fault",
        "A carmaker is recalling about 40,000 hatchbacks because a seat belt latch may not lock. "
        "Owners will be contacted by dealers and repairs are free.",
    ),
    (
        "Tennis champion withdraws from autumn tournament",
        "The defending champion pulled out of the autumn tournament with a wrist injury. "
        "Organisers said ticket holders could exchange their seats.",
    ),
    (
        "Shipping company orders six container vessels",
        "A shipping company placed an order for six container vessels to be delivered by 2029. "
        "The firm said the ships would burn less fuel than its current fleet.",
    ),
    (
        "Supermarket group reports higher online sales",
        "Online orders at a supermarket group rose by a fifth in the quarter. "
        "The group said delivery slots in the evening sold out most weeks.",
    ),
    (
        "Cyclist takes the mountain stage in heavy rain",
        "A young cyclist won the mountain stage after a solo breakaway in heavy rain. "
        "The overall leader finished in the main group and kept the jersey.",
    ),
    (
        "Software maker agrees to buy analytics start-up",
        "A software maker agreed to buy a small analytics start-up for an undisclosed sum. "
        "The deal is expected to close before the end of the year.",
    ),
    (
        "Coffee prices climb on poor harvest outlook",
        "Coffee futures rose for a third day as growers warned of a smaller harvest. "
        "Roasters said retail prices could follow in the spring.",
    ),
    (
        "Rugby side names new captain for the season",
        "The rugby club named its veteran flanker as captain for the new season. "
        "The coach praised his leadership in the dressing room.",
    ),
    (
        "Airline adds winter routes to the islands",
        "A budget airline will add three winter routes to the islands from December. "
        "The carrier said bookings for the holidays were ahead of last year.",
    ),
    (
        "Utility raises dividend after mild year",
        "A water utility raised its dividend after a year without major repairs. "
        "The regulator is reviewing the company's investment plan.",
    ),
    (
        "Goalkeeper's saves earn a draw in the derby",
        "Two fine saves from the goalkeeper earned a goalless draw in the city derby. "
        "Both managers said the result was fair after a tense second half.",
    ),
    (
        "Retailer closes twenty stores as rents rise",
        "A clothing retailer will close twenty stores when their leases end next year. "
        "Staff will be offered jobs at nearby branches.",
    ),
    (
        "Marathon record falls in cool conditions",
        "The course record fell at the city marathon as runners enjoyed cool, still weather. "
        "More than thirty thousand people finished the race.",
    ),
    (
        "Chipmaker expects demand to recover next year",
        "A chipmaker said orders from phone makers should recover next year. "
        "Its shares rose after the forecast was published.",
    ),
    (
        "Basketball team extends coach's contract",
        "The basketball team extended its head coach's contract by three seasons. "
        "The club reached the semi-finals twice under his guidance.",
    ),
    (
        "Housing starts slow for a second month",
        "Builders began fewer homes for the second month in a row, official figures showed. "
        "Higher mortgage costs have kept some buyers away.",
    ),
    (
        "Brewer launches alcohol-free lager",
        "A brewer launched an alcohol-free lager after sales of low-strength beers grew. "
        "The drink will be sold in supermarkets from next month.",
    ),
    (
        "Cricket captain fires up the batting order",
        "The captain promised to fire up a batting order that has struggled all summer. "
        "The side faces the league leaders at home on Friday.",
    ),
    (
        "Insurer sets aside more for storm claims",
        "An insurer set aside more money for claims after a stormy autumn. "
        "It said the cost would not change its dividend.",
    ),
    (
        "Swimmer breaks national record at trials",
        "A swimmer broke the national record in the 200 metres at the championship trials. "
        "She will compete at the world championships next year.",
    ),
    (
        "Factory output edges higher in September",
        "Factory output rose slightly in September, led by food and drink makers. "
        "Manufacturers said export orders were still weak.",
    ),
    (
        "Golf veteran wins on home course",
        "A golf veteran won the open on his home course with a final round of 66. "
        "It was his first title in four years.",
    ),
    (
        "Telecom firm cuts prices of broadband plans",
        "A telecom firm cut the prices of its broadband plans to win customers from rivals. "
        "Analysts expect others to follow before the winter.",
    ),
    (
        "Hockey club signs Finnish defender",
        "The hockey club signed a Finnish defender on a two-year deal. "
        "He joins from a team in Sweden where he was captain.",
    ),
    (
        "Furniture maker warns on profits",
        "A furniture maker warned that profits would fall short of forecasts. "
        "Shoppers have delayed large purchases, the company said.",
    ),
    (
        "Sailing crew wins the coastal race",
        "A sailing crew won the coastal race after a duel with the favourites in strong winds. "
        "The crew finished four minutes ahead.",
    ),
    (
        "Pharmacy chain expands into vaccinations",
        "A pharmacy chain will offer seasonal vaccinations in all its branches. "
        "Appointments can be booked online from Monday.",
    ),
    (
        "Boxer retains title on points",
        "The champion retained his title on points after twelve hard rounds. "
        "His opponent asked for a rematch in the spring.",
    ),
    (
        "Port handles record volume of grain",
        "The port handled a record volume of grain in the season just ended. "
        "New silos opened last year helped speed up loading.",
    ),
    (
        "Volleyball team qualifies for the finals",
        "The national volleyball team qualified for the finals after beating the hosts in five sets. "
        "The coach said the team's serving made the difference.",
    ),
    (
        "Electric scooter firm raises fresh funds",
        "An electric scooter firm raised fresh funds from investors to expand to ten more cities. "
        "The company expects to break even in two years.",
    ),
    (
        "Athletics meeting moved because of track repairs",
        "The athletics meeting will move to a nearby stadium while the track is resurfaced. "
        "Tickets remain valid at the new venue.",
    ),
    (
        "Toy maker sees strong start to holiday season",
        "A toy maker said orders from shops were strong ahead of the holiday season. "
        "Board games and building sets sold best.",
    ),
]

# (city, title, body): one country, eight cities, each a story of its own.
SURGE: list[tuple[str, str, str]] = [
    (
        "Kharkiv",
        "Missiles hit Kharkiv overnight",
        "Russian forces fired missiles at Kharkiv overnight, damaging a power station and "
        "injuring four people, regional officials said.",
    ),
    (
        "Odesa",
        "Drone attack on Odesa port",
        "Russian drones attacked the port of Odesa before dawn, setting a grain warehouse on fire, "
        "the governor said. Air defences shot down most of them.",
    ),
    (
        "Dnipro",
        "Shelling damages homes in Dnipro suburbs",
        "Russian artillery shelled suburbs of Dnipro on Tuesday, damaging a school and dozens of "
        "homes. Two civilians were killed, rescuers said.",
    ),
    (
        "Zaporizhzhia",
        "Airstrike on Zaporizhzhia factory",
        "A Russian airstrike hit an industrial plant in Zaporizhzhia, killing three workers, "
        "the city administration said. Glide bombs were used, according to the air force.",
    ),
    (
        "Sumy",
        "Border villages near Sumy shelled",
        "Villages near Sumy came under Russian mortar and artillery fire throughout the day, "
        "the border guard service reported, and one man was wounded.",
    ),
    (
        "Kherson",
        "Kherson centre struck by rockets",
        "Russian forces launched rockets at the centre of Kherson, hitting a market and a bus "
        "stop. Five people were injured, the prosecutor's office said.",
    ),
    (
        "Mykolaiv",
        "Cruise missile strike on Mykolaiv",
        "Russia struck Mykolaiv with cruise missiles at midday, hitting a warehouse district; "
        "emergency crews fought fires for hours, the mayor said.",
    ),
    (
        "Poltava",
        "Ballistic missile attack on Poltava training site",
        "A Russian ballistic missile attack on a training site near Poltava killed several "
        "servicemen, the defence ministry said, and an investigation was opened.",
    ),
]
