import json, sys
from qa.collection import Collection

def main():
    index, questions = sys.argv[1], sys.argv[2]
    col = Collection.open(index)
    for line in open(questions):
        r = json.loads(line)
        c = col.rank(r["question"], 20).confidence
        print(f"{r['id'][:26]:26} {'A' if r['answers'] else 'U'} {'ok ' if c.confident else 'ABS'} p={c.probability:.3f} dense={c.dense:.3f} cov={c.coverage:.3f} known={c.known:.3f} margin={c.margin:.3f}")

if __name__ == "__main__":
    main()
