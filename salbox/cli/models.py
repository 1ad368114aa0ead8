"""``salbox models``: the model zoo as a table: name, whether it runs here (or what to
install), weights size, source, description (salbox/apis/zoo.py)."""
import argparse


def rows():
    from salbox.apis.zoo import ZOO, human_size
    table = []
    for entry in ZOO.values():
        problem = entry.problem()
        table.append((entry.name, 'usable' if problem is None else 'not installed',
                      human_size(entry.size_bytes), entry.source, entry.description, problem))
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog='salbox models',
                                     description='The models `salbox infer --model NAME` takes.')
    parser.parse_args(argv)
    from salbox.apis.zoo import DEFAULT_MODEL
    header = ('name', 'status', 'size', 'weights from', 'model')
    found = rows()
    table = [header] + [row[:-1] for row in found]
    widths = [max(len(r[i]) for r in table) for i in range(len(header) - 1)]
    for row in table:
        print('  '.join(cell.ljust(w) for cell, w in zip(row, widths)) + '  ' + row[-1])
    for row in found:
        if row[-1]:
            print(f'{row[0]}: {row[-1]}')
    print(f'default: {DEFAULT_MODEL}; any trained model: --model CONFIG CHECKPOINT '
          '(docs/cli.md lists the measured speed)')
    return 0
