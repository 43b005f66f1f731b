BEGIN TRANSACTION;
CREATE TABLE in_tail_files (  id      INTEGER PRIMARY KEY,  name    TEXT NOT NULL,  offset  INTEGER,  inode   INTEGER,  created INTEGER,  rotated INTEGER DEFAULT 0);
INSERT INTO "in_tail_files" VALUES(2,'{dir}/b.log',3,2465861,1796660010,0);
INSERT INTO "in_tail_files" VALUES(3,'{dir}/a.log',3,2465868,1796660013,0);
COMMIT;
