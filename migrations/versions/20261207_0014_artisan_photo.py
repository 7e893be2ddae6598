"""artisan photo

- artisan_photo: the holder's photo of an artisan, out of the artisan row (issue 15, part 7): the
  JPEG, its SHA-256 (ETag and the officers' version check), its size, when and by whom it was set.
- artisan.photo_jpeg: moved there, then dropped. A stored photo is moved as it is (its digest and
  size computed here); photos set from now on are re-encoded by webapp/services/register/photos.py.

On SQLite the column is dropped with ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later), not by
recreating the artisan table: a recreated table would lose the search index's triggers (0006) and
could not be dropped while cards and accounts refer to it with foreign keys on.

Revision ID: 0014
Revises: 0015
Create Date: 2026-12-07 16:30:00.000000
"""

import hashlib
import io

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0015'
branch_labels = None
depends_on = None

BATCH = 500


def _size(jpeg: bytes) -> tuple[int, int]:
    """Width and height from the image's header (no decoding); 1 x 1 when it cannot be read, so that
    a damaged old photo is still moved (and shown as broken) rather than lost."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(jpeg)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return 1, 1


def upgrade() -> None:
    op.create_table(
        'artisan_photo',
        sa.Column('artisan_id', sa.Integer(), nullable=False),
        sa.Column('jpeg', sa.LargeBinary(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.CheckConstraint('width > 0 AND height > 0', name=op.f('ck_artisan_photo_positive_size')),
        sa.CheckConstraint('length(sha256) = 64', name=op.f('ck_artisan_photo_sha256_hex')),
        sa.ForeignKeyConstraint(
            ['artisan_id'], ['artisan.id'], name=op.f('fk_artisan_photo_artisan_id_artisan'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['updated_by'], ['user_account.id'], name=op.f('fk_artisan_photo_updated_by_user_account'),
            ondelete='SET NULL'
        ),
        sa.PrimaryKeyConstraint('artisan_id', name=op.f('pk_artisan_photo')),
    )

    connection = op.get_bind()
    artisan = sa.table('artisan', sa.column('id', sa.Integer), sa.column('photo_jpeg', sa.LargeBinary),
                       sa.column('registered_at', sa.DateTime(timezone=True)))
    photo = sa.table('artisan_photo', *(sa.column(name) for name in
                     ('artisan_id', 'jpeg', 'sha256', 'width', 'height', 'updated_at', 'updated_by')))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(artisan.c.id, artisan.c.photo_jpeg, artisan.c.registered_at)
            .where(artisan.c.id > last, artisan.c.photo_jpeg.is_not(None)).order_by(artisan.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        moved = []
        for row in rows:
            jpeg = bytes(row.photo_jpeg)
            width, height = _size(jpeg)
            moved.append({
                'artisan_id': row.id, 'jpeg': jpeg, 'sha256': hashlib.sha256(jpeg).hexdigest(),
                'width': width, 'height': height, 'updated_at': row.registered_at, 'updated_by': None,
            })
        connection.execute(sa.insert(photo), moved)
        last = rows[-1].id

    with op.batch_alter_table('artisan', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('photo_jpeg')


def downgrade() -> None:
    with op.batch_alter_table('artisan', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('photo_jpeg', sa.LargeBinary(), nullable=True))
    op.execute(
        'UPDATE artisan SET photo_jpeg = (SELECT artisan_photo.jpeg FROM artisan_photo '
        'WHERE artisan_photo.artisan_id = artisan.id)'
    )
    op.drop_table('artisan_photo')
