"""Every .xml, .xml.gz, .dbk and .docbook file under /usr/share read by qa's reader for its name:
how many are DocBook (with their size, blocks, read time and title) and why the others are skipped.

    python benchmarks/results/session-2026-12-06b/scan_xml.py
"""
import sys, time
from pathlib import Path
from collections import Counter
from qa.ingest.readers import reader_for, read_here
from qa.ingest.limits import ReadLimits
from qa.errors import UnreadableFile
if __name__ == "__main__":
    files=[p for p in Path('/usr/share').rglob('*') if p.is_file() and (p.name.endswith(('.xml','.xml.gz','.dbk','.docbook')))]
    print(len(files))
    c=Counter(); ok=[]
    for p in files:
        t=time.time()
        try:
            f=read_here(reader_for(p),p,ReadLimits()); ok.append((p,len(f.text),len(f.blocks),time.time()-t, f.title))
        except UnreadableFile as e: c[str(e).split('(')[0][:60]]+=1
        except Exception as e: c['CRASH '+type(e).__name__+str(e)[:80]]+=1
    print(c.most_common(10))
    for o in ok: print(o)
